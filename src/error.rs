//! The errors a run can end with, and their documented exit codes (SPEC §6).

use crate::incident::ConfigError;
use crate::interest::InterestError;
use crate::ledger::LedgerError;
use crate::load::LoadError;
use crate::output::OutputError;
use crate::refund::ComputeError;
use crate::rules::RuleError;

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
    Compute(#[from] ComputeError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Usage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) | RunError::Usage(_) => EXIT_USAGE,
            RunError::Load(LoadError::Missing { .. }) => EXIT_MISSING,
            RunError::Load(_) => EXIT_DATA,
            RunError::Compute(ComputeError::Interest(InterestError::Overflow(_))) => EXIT_INTERNAL,
            RunError::Compute(ComputeError::Interest(_)) => EXIT_USAGE,
            RunError::Compute(ComputeError::Rule(RuleError::BadData { .. })) => EXIT_DATA,
            RunError::Compute(ComputeError::PaidOnDisagrees { .. }) => EXIT_DATA,
            RunError::Compute(ComputeError::Rule(RuleError::Overflow(_)))
            | RunError::Compute(ComputeError::Overflow(_)) => EXIT_DATA,
            RunError::Ledger(_) | RunError::Internal(_) => EXIT_INTERNAL,
            RunError::Output(_) => EXIT_OUTPUT,
        }
    }
}
