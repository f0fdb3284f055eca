//! What the documents say in each language: the incident's title, company and paragraphs
//! (`[incident.text.<lang>]`), and the names shown for region, plan and payout-channel codes
//! (`[display]`). Owns the rule that a document never shows a code or another language's words:
//! a language whose texts are incomplete is refused where a document needs it (exit 2, naming the
//! keys). Never formats money or dates.

use std::collections::BTreeMap;

use crate::incident::wire::{self, DateStyle};
use crate::model::Language;

/// The keys every language a document is written in must have, in the order messages list them.
const REQUIRED: [&str; 7] = [
    "title",
    "company",
    "summary",
    "cause",
    "response",
    "prevention",
    "contact",
];

/// The payout channels documents name, with their built-in names (ja, en).
const CHANNELS: [(&str, &str, &str); 5] = [
    (
        "bill_credit",
        "ご請求額からの差し引き",
        "Credit on a later bill",
    ),
    ("bank_transfer", "銀行振込", "Bank transfer"),
    ("claim", "お申し出によるご返金", "Refund on request"),
    (
        "residual",
        "少額のため個別のご返金",
        "Small amount, refunded on request",
    ),
    (
        "bill_correction",
        "未払いのご請求の減額",
        "Correction of an unpaid bill",
    ),
];

/// The complete text of one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    pub title: String,
    pub company: String,
    pub summary: String,
    pub cause: String,
    pub response: String,
    pub prevention: String,
    pub contact: String,
    /// What was sold, as the qualified return invoice names it; a built-in phrase when absent.
    pub service: Option<String>,
}

/// Every language's texts as the incident file gives them (possibly incomplete), and the names of
/// codes.
#[derive(Debug, Clone)]
pub struct Texts {
    /// The incident's own language: of `[incident] title`/`company`, and of `report.html`.
    pub language: Language,
    pub date_style: DateStyle,
    given: BTreeMap<Language, wire::IncidentText>,
    display: wire::DisplaySection,
}

/// A language a document needs, and the keys it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingText {
    pub language: Language,
    /// Why the language is needed, for the message: `3 affected accounts`, `the press release`.
    pub needed_by: String,
    /// Full keys, e.g. `incident.text.en.title`, `display.region.east.en`.
    pub keys: Vec<String>,
}

impl Texts {
    /// The texts of `[incident]`, `[incident.text]` and `[display]` as written.
    pub fn from_wire(section: &wire::IncidentSection, display: &wire::DisplaySection) -> Texts {
        let language = section.language.unwrap_or(Language::Ja);
        let mut given = BTreeMap::new();
        for (code, text) in [
            (Language::Ja, &section.text.ja),
            (Language::En, &section.text.en),
        ] {
            let mut text = text.clone().unwrap_or_default();
            if code == language {
                // `[incident] title` and `company` are written in the incident's own language.
                text.title = text.title.or_else(|| section.title.clone());
                text.company = text.company.or_else(|| section.company.clone());
            }
            given.insert(code, text);
        }
        Texts {
            language,
            date_style: section.date_style.unwrap_or_default(),
            given,
            display: display.clone(),
        }
    }

    /// The keys of `language`'s texts that are missing or blank.
    pub fn missing_keys(&self, language: Language) -> Vec<String> {
        let text = self.given.get(&language);
        REQUIRED
            .iter()
            .filter(|key| {
                text.and_then(|text| field(text, key))
                    .is_none_or(|value| value.trim().is_empty())
            })
            .map(|key| self.key_name(language, key))
            .collect()
    }

    /// How a message names a key: `[incident] title` may stand for the incident's own language.
    fn key_name(&self, language: Language, key: &str) -> String {
        if language == self.language && (key == "title" || key == "company") {
            format!(
                "incident.{key} (or incident.text.{}.{key})",
                language.code()
            )
        } else {
            format!("incident.text.{}.{key}", language.code())
        }
    }

    /// `language`'s complete text, or `None` when a key is missing.
    pub fn text(&self, language: Language) -> Option<Text> {
        if !self.missing_keys(language).is_empty() {
            return None;
        }
        let given = self.given.get(&language)?;
        let get = |key: &str| field(given, key).unwrap_or_default().to_string();
        Some(Text {
            title: get("title"),
            company: get("company"),
            summary: get("summary"),
            cause: get("cause"),
            response: get("response"),
            prevention: get("prevention"),
            contact: get("contact"),
            service: given
                .service
                .clone()
                .filter(|service| !service.trim().is_empty()),
        })
    }

    /// The title in `language`, when given (for terminal lines and the manifest).
    pub fn title(&self, language: Language) -> Option<&str> {
        self.given
            .get(&language)
            .and_then(|text| text.title.as_deref())
    }

    /// The name of a region code in `language`; `None` stands for accounts without a region.
    pub fn region(&self, code: Option<&str>, language: Language) -> Option<String> {
        match code {
            None => Some(
                match language {
                    Language::Ja => "地域の登録なし",
                    Language::En => "No region recorded",
                }
                .to_string(),
            ),
            Some(code) => name_in(self.display.region.get(code), language),
        }
    }

    /// The name of a plan code in `language`, when the incident gives one.
    pub fn plan(&self, code: &str, language: Language) -> Option<String> {
        name_in(self.display.plan.get(code), language)
    }

    /// The name of a payout channel in `language`: the incident's, or the built-in one.
    pub fn channel(&self, code: &str, language: Language) -> String {
        name_in(self.display.channel.get(code), language).unwrap_or_else(|| {
            CHANNELS
                .iter()
                .find(|(channel, _, _)| *channel == code)
                .map(|(_, ja, en)| match language {
                    Language::Ja => ja.to_string(),
                    Language::En => en.to_string(),
                })
                .unwrap_or_else(|| code.to_string())
        })
    }

    /// What `language`'s documents lack: missing text keys and region names for `regions` (the
    /// region codes of the affected accounts; `None` needs no name).
    pub fn missing<'a>(
        &self,
        language: Language,
        regions: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Option<MissingText> {
        let mut keys = self.missing_keys(language);
        let mut unnamed: Vec<&str> = regions
            .into_iter()
            .flatten()
            .filter(|code| self.region(Some(code), language).is_none())
            .collect();
        unnamed.sort_unstable();
        unnamed.dedup();
        keys.extend(
            unnamed
                .into_iter()
                .map(|code| format!("display.region.{}.{}", toml_key(code), language.code())),
        );
        (!keys.is_empty()).then_some(MissingText {
            language,
            needed_by: String::new(),
            keys,
        })
    }

    /// Codes named in `[display]` that are not payout channels (a typo would otherwise be ignored).
    pub fn unknown_channels(&self) -> Vec<String> {
        self.display
            .channel
            .keys()
            .filter(|code| !CHANNELS.iter().any(|(channel, _, _)| channel == code))
            .cloned()
            .collect()
    }

    /// The built-in channel codes, for messages.
    pub fn channel_codes() -> String {
        CHANNELS
            .iter()
            .map(|(code, _, _)| format!("`{code}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A key of `[incident.text.<lang>]` by name.
fn field<'a>(text: &'a wire::IncidentText, key: &str) -> Option<&'a str> {
    match key {
        "title" => text.title.as_deref(),
        "company" => text.company.as_deref(),
        "summary" => text.summary.as_deref(),
        "cause" => text.cause.as_deref(),
        "response" => text.response.as_deref(),
        "prevention" => text.prevention.as_deref(),
        "contact" => text.contact.as_deref(),
        _ => None,
    }
}

fn name_in(name: Option<&wire::DisplayName>, language: Language) -> Option<String> {
    let name = name?;
    match language {
        Language::Ja => name.ja.clone(),
        Language::En => name.en.clone(),
    }
    .filter(|name| !name.trim().is_empty())
}

/// A code as a TOML key: bare when it can be, quoted otherwise.
fn toml_key(code: &str) -> String {
    if !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        code.to_string()
    } else {
        format!("\"{}\"", code.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(toml: &str) -> Texts {
        let file: wire::IncidentFile = toml::from_str(toml).unwrap();
        Texts::from_wire(&file.incident, &file.display)
    }

    const BASE: &str = "[incident]\nid = \"x\"\nkind = \"missed_cancellation\"\ntitle = \"料金誤り\"\ncompany = \"例株式会社\"\n[interest]\npolicy = \"none\"\n";

    #[test]
    fn the_incident_title_is_its_own_language_and_never_another() {
        let full = format!(
            "{BASE}[incident.text.ja]\nsummary = \"s\"\ncause = \"c\"\nresponse = \"r\"\nprevention = \"p\"\ncontact = \"t\"\n[incident.text.en]\nsummary = \"S\"\ncause = \"C\"\nresponse = \"R\"\nprevention = \"P\"\ncontact = \"T\"\n"
        );
        let texts = texts(&full);
        let ja = texts.text(Language::Ja).unwrap();
        assert_eq!(
            (ja.title.as_str(), ja.company.as_str()),
            ("料金誤り", "例株式会社")
        );
        assert_eq!(texts.text(Language::En), None);
        assert_eq!(
            texts.missing_keys(Language::En),
            ["incident.text.en.title", "incident.text.en.company"]
        );
    }

    #[test]
    fn missing_keys_and_region_names_are_named() {
        let toml = format!(
            "{BASE}[incident.text.ja]\nsummary = \"s\"\ncause = \" \"\n[display.region.east]\nja = \"NTT東日本\"\n"
        );
        let texts = texts(&toml);
        let missing = texts
            .missing(
                Language::Ja,
                [Some("east"), Some("west"), None, Some("west")],
            )
            .unwrap();
        assert_eq!(
            missing.keys,
            [
                "incident.text.ja.cause",
                "incident.text.ja.response",
                "incident.text.ja.prevention",
                "incident.text.ja.contact",
                "display.region.west.ja"
            ]
        );
        assert_eq!(
            texts.region(Some("east"), Language::Ja).as_deref(),
            Some("NTT東日本")
        );
        assert_eq!(texts.region(Some("east"), Language::En), None);
        assert_eq!(texts.channel("bank_transfer", Language::Ja), "銀行振込");
    }

    #[test]
    fn an_english_incident_takes_its_title_as_english() {
        let toml = BASE.replace("[interest]", "language = \"en\"\n[interest]");
        let texts = texts(&toml);
        assert_eq!(texts.title(Language::En), Some("料金誤り"));
        assert_eq!(texts.title(Language::Ja), None);
        assert!(
            texts.missing_keys(Language::Ja)[0].starts_with("incident.text.ja.title"),
            "{:?}",
            texts.missing_keys(Language::Ja)
        );
    }
}
