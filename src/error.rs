//! The errors a run can end with, and their documented exit codes (SPEC §6).

use crate::identify::IdentifyError;
use crate::incident::ConfigError;
use crate::interest::InterestError;
use crate::ledger::LedgerError;
use crate::load::LoadError;
use crate::output::OutputError;
use crate::refund::ComputeError;

pub const EXIT_USAGE: u8 = 2;
pub const EXIT_DATA: u8 = 65;
pub const EXIT_MISSING: u8 = 66;
pub const EXIT_INTERNAL: u8 = 70;
pub const EXIT_OUTPUT: u8 = 73;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Identify(#[from] IdentifyError),
    #[error(transparent)]
    Compute(#[from] ComputeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Wave(#[from] crate::waves::WaveError),
    #[error("{0}")]
    Usage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(ConfigError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                EXIT_MISSING
            }
            RunError::Config(_) | RunError::Usage(_) => EXIT_USAGE,
            RunError::Load(error) => load_exit_code(error),
            RunError::Identify(error) => identify_exit_code(error),
            RunError::Compute(error) => compute_exit_code(error.cause()),
            RunError::Ledger(_) | RunError::Internal(_) => EXIT_INTERNAL,
            RunError::Output(_) => EXIT_OUTPUT,
            RunError::Wave(error) => wave_exit_code(error),
        }
    }
}

fn wave_exit_code(error: &crate::waves::WaveError) -> u8 {
    use crate::waves::WaveError;
    match error {
        WaveError::Usage { .. } => EXIT_USAGE,
        WaveError::Bad { .. } | WaveError::Overflow(_) => EXIT_DATA,
        WaveError::Missing { .. } => EXIT_MISSING,
        WaveError::Internal(_) => EXIT_INTERNAL,
        WaveError::Interest(crate::interest::InterestError::Overflow(_)) => EXIT_INTERNAL,
        WaveError::Interest(_) => EXIT_USAGE,
    }
}

fn load_exit_code(error: &LoadError) -> u8 {
    match error {
        LoadError::Missing { .. } => EXIT_MISSING,
        LoadError::Scratch { .. } => EXIT_OUTPUT,
        _ => EXIT_DATA,
    }
}

/// A message as a terminal may show it: control characters (an escape sequence in a data value
/// would retitle or recolour the terminal) and bidirectional overrides become `\u{..}` escapes;
/// newlines and tabs stay.
pub fn printable(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn compute_exit_code(error: &ComputeError) -> u8 {
    match error {
        ComputeError::Identify(error) => identify_exit_code(error),
        ComputeError::Interest(InterestError::Overflow(_)) => EXIT_INTERNAL,
        ComputeError::Interest(_) => EXIT_USAGE,
        ComputeError::Overflow(_) | ComputeError::At { .. } => EXIT_DATA,
    }
}

/// Data that cannot be computed (a rule's bad data, disagreeing paid_on, amounts out of range) is
/// bad input.
fn identify_exit_code(error: &IdentifyError) -> u8 {
    match error {
        IdentifyError::Load(error) => load_exit_code(error),
        IdentifyError::Rule(_)
        | IdentifyError::Overflow(_)
        | IdentifyError::InvoiceOverflow { .. }
        | IdentifyError::PaidOnDisagrees { .. } => EXIT_DATA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("value `\u{1b}]0;owned\u{7}`\nhint: x\t\u{202e}"),
            "value `\\u{1b}]0;owned\\u{7}`\nhint: x\t\\u{202e}"
        );
        assert_eq!(printable("金額 `12,5`"), "金額 `12,5`");
    }
}
