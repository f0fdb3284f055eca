//! Rendering: pure functions from computed values to file bytes and terminal text. Nothing here
//! decides what is owed: amounts arrive as `Money` (the summary only adds them up per region, month
//! and class, with checked sums) and are written as its exact decimal text, or in documents through
//! `notices::format_money`. Every table's columns are its row type's fields (`tables`).

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
