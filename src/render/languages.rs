//! Which languages a run's documents are written in, decided before anything is rendered: every
//! language an affected account reads and the incident's own language (press release, report) must
//! have complete texts, or the run stops (exit 2) naming the keys; the press release in another
//! language is written only when its texts are complete. Never renders anything.

use std::collections::BTreeMap;

use crate::incident::{ConfigError, Incident, MissingText};
use crate::model::{AccountInvoices, Language};
use crate::refund::AccountRefund;

/// The languages a run writes, and the press releases it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentLanguages {
    /// Languages of the press releases written (always the incident's own).
    pub press_releases: Vec<Language>,
    /// Affected accounts per language (their notices).
    pub notices: BTreeMap<Language, u64>,
    /// Press releases not written because their language's texts are incomplete (no affected
    /// account reads it).
    pub skipped: Vec<MissingText>,
}

/// Decides the languages from the affected accounts (`refunds`, with their account rows in
/// `inputs`) and refuses a needed language with incomplete texts.
pub fn decide(
    incident: &Incident,
    inputs: &[AccountInvoices],
    refunds: &[AccountRefund],
) -> Result<DocumentLanguages, ConfigError> {
    let texts = &incident.texts;
    let language_of: std::collections::HashMap<&str, Language> = inputs
        .iter()
        .map(|input| (input.account.account_id.as_str(), input.account.language))
        .collect();
    let mut notices: BTreeMap<Language, u64> = BTreeMap::new();
    for refund in refunds {
        if let Some(language) = language_of.get(refund.account_id.as_str()) {
            *notices.entry(*language).or_default() += 1;
        }
    }
    let regions = || refunds.iter().map(|refund| refund.region.as_deref());
    let mut missing = Vec::new();
    let mut press_releases = Vec::new();
    let mut skipped = Vec::new();
    for language in Language::ALL {
        let accounts = notices.get(&language).copied().unwrap_or(0);
        let own = language == texts.language;
        let gap = texts.missing(language, regions());
        match (gap, accounts > 0 || own) {
            (None, _) => press_releases.push(language),
            (Some(mut gap), true) => {
                gap.needed_by = needed_by(accounts, own);
                missing.push(gap);
            }
            (Some(mut gap), false) => {
                gap.needed_by = "the press release".to_string();
                skipped.push(gap);
            }
        }
    }
    if !missing.is_empty() {
        return Err(ConfigError::MissingTexts {
            path: incident.path.clone(),
            missing,
        });
    }
    Ok(DocumentLanguages {
        press_releases,
        notices,
        skipped,
    })
}

fn needed_by(accounts: u64, own: bool) -> String {
    let notices = match accounts {
        0 => None,
        1 => Some("the notice of 1 affected account".to_string()),
        n => Some(format!(
            "the notices of {} affected accounts",
            crate::render::notices::group_digits(&n.to_string())
        )),
    };
    match (notices, own) {
        (Some(notices), true) => {
            format!("{notices}, and the press release and report in the incident's language")
        }
        (Some(notices), false) => notices,
        (None, _) => "the press release and report in the incident's language".to_string(),
    }
}
