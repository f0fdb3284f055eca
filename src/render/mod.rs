//! Rendering: pure functions from computed values to file bytes. Nothing here computes money;
//! everything is formatted through `money::Currency::format`.

pub mod excel;
pub mod languages;
pub mod ledger;
pub mod manifest;
pub mod notices;
pub mod pdf;
pub mod report;
pub mod summary;
pub mod tables;
pub mod text;
pub mod wareki;
pub mod zengin;
