//! redress: a mass-incident refund processor. The library holds every stage; `main.rs` only parses
//! the command line and maps errors to exit codes.
//!
//! Stages, in order: `settings` (CLI + incident file) → `load` (polars scans, validation) →
//! `identify` (in-scope accounts into Rust) → `rules` + `refund` + `interest` (the money policy) →
//! `ledger` (control totals) → `render` (bytes) → `output` (atomic directory).

pub mod calendar;
pub mod cleanup;
pub mod cli;
pub mod demo;
pub mod error;
pub mod generate;
pub mod identify;
pub mod incident;
pub mod interest;
pub mod ledger;
pub mod load;
pub mod model;
pub mod money;
pub mod output;
pub mod payout;
pub mod pipeline;
pub mod progress;
pub mod refund;
pub mod render;
pub mod return_invoice;
pub mod rules;
pub mod settings;
pub mod stage;
pub mod waves;
