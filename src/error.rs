//! The errors a run can end with, and their documented exit codes (SPEC §6).

use crate::identify::IdentifyError;
use crate::incident::ConfigError;
use crate::interest::InterestError;
use crate::ledger::LedgerError;
use crate::load::LoadError;
use crate::output::OutputError;
use crate::refund::ComputeError;
use crate::render::notices::NoticeError;
use crate::render::pdf::PdfError;
use crate::render::zengin::ZenginError;

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
    /// Notices, press releases, the report: a template that does not render, or writing them.
    #[error(transparent)]
    Documents(#[from] NoticeError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Zengin(#[from] ZenginError),
    /// An output table could not be written: a bug.
    #[error(transparent)]
    Table(#[from] crate::render::tables::TableError),
    /// The command line, or something it names, is wrong; the message says what and how to fix it.
    #[error("{0}")]
    Usage(String),
    /// A location given on the command line cannot be made an absolute path.
    #[error("cannot resolve the location `{location}`")]
    Location {
        location: String,
        source: std::io::Error,
    },
    /// Something redress should never do: a bug, or the machine failing under it.
    #[error("internal error: {what}")]
    Internal {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl RunError {
    /// An internal error caused by `source` while doing `what`.
    pub fn internal(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> RunError {
        RunError::Internal {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// An internal error with no underlying cause: a state redress should never reach.
    pub fn bug(what: impl Into<String>) -> RunError {
        RunError::Internal {
            what: what.into(),
            source: None,
        }
    }

    /// The message and every cause under it, each once: `error: …`, then a `  caused by: …` line
    /// per cause not already quoted above it (an error that names where it happened quotes its
    /// cause), then the message's `hint:` (the fix reads last).
    pub fn report(&self) -> String {
        let message = self.to_string();
        let (head, hint) = match message.split_once("\nhint: ") {
            Some((head, hint)) => (head, Some(hint)),
            None => (message.as_str(), None),
        };
        let mut text = format!("error: {head}");
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            let shown = error.to_string();
            if !text.contains(shown.trim_end()) {
                text.push_str("\n  caused by: ");
                text.push_str(&shown.trim_end().replace('\n', "\n    "));
            }
            cause = error.source();
        }
        if let Some(hint) = hint {
            text.push_str("\nhint: ");
            text.push_str(hint);
        }
        printable(&text)
    }
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(ConfigError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                EXIT_MISSING
            }
            RunError::Config(_) | RunError::Usage(_) | RunError::Location { .. } => EXIT_USAGE,
            RunError::Documents(error) => documents_exit_code(error),
            RunError::Pdf(PdfError::NoEngine) => EXIT_USAGE,
            RunError::Pdf(_) => EXIT_INTERNAL,
            // A payee the channel let through is bad data; the paying company's own details are
            // the incident file's.
            RunError::Zengin(ZenginError::Payee { .. } | ZenginError::BatchTotal { .. }) => {
                EXIT_DATA
            }
            RunError::Zengin(_) => EXIT_USAGE,
            RunError::Load(error) => load_exit_code(error),
            RunError::Identify(error) => identify_exit_code(error),
            RunError::Compute(error) => compute_exit_code(error.cause()),
            RunError::Ledger(_) | RunError::Internal { .. } | RunError::Table(_) => EXIT_INTERNAL,
            RunError::Output(_) => EXIT_OUTPUT,
            RunError::Wave(error) => wave_exit_code(error),
        }
    }
}

fn documents_exit_code(error: &NoticeError) -> u8 {
    match error {
        NoticeError::Read { .. } | NoticeError::Template { .. } => EXIT_USAGE,
        NoticeError::Output(_) => EXIT_OUTPUT,
        NoticeError::Serialize { .. }
        | NoticeError::MissingText { .. }
        | NoticeError::Overflow(_)
        | NoticeError::Table(_) => EXIT_INTERNAL,
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

    #[test]
    fn the_cause_chain_is_printed_once_with_the_hint_last() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error = RunError::Load(LoadError::Read {
            file: "charges/2019-10.csv".to_string(),
            source: io.into(),
        });
        assert_eq!(
            error.report(),
            "error: cannot read `charges/2019-10.csv`\n  caused by: permission denied"
        );
        // A located error quotes its cause: the cause is not repeated, its own cause is shown.
        let located = RunError::Compute(ComputeError::At {
            account_id: "A1".to_string(),
            billing_month: None,
            source: Box::new(ComputeError::Identify(IdentifyError::Load(
                LoadError::Read {
                    file: "accounts.csv".to_string(),
                    source: "short read".into(),
                },
            ))),
        });
        assert_eq!(
            located.report(),
            "error: account `A1`: cannot read `accounts.csv`\n  caused by: short read"
        );
        let hinted = RunError::Internal {
            what: "x\nhint: do y".to_string(),
            source: Some("z".into()),
        };
        assert_eq!(
            hinted.report(),
            "error: internal error: x\n  caused by: z\nhint: do y"
        );
    }
}
