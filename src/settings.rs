//! CLI arguments and the incident file resolved once into the settings every stage uses. No later
//! stage sees clap types or re-reads the incident file.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::{EncodingArg, InputArgs, OnBadRowsArg};
use crate::identify::OnBadRows;
use crate::incident::{ConfigError, Incident, RateSource};
use crate::load::Encoding;
use crate::money;

#[derive(Debug, Clone)]
pub struct Settings {
    pub incident: Incident,
    pub data_dir: PathBuf,
    /// The date interest runs to: `--refund-date`, else `incident.refund_date`.
    pub refund_date: Option<NaiveDate>,
    pub on_bad_rows: OnBadRows,
    pub encoding: Encoding,
    pub threads: Option<usize>,
    pub quiet: bool,
}

impl Settings {
    pub fn resolve(args: &InputArgs) -> Result<Settings, ConfigError> {
        let incident = Incident::load(&args.incident)?;
        let refund_date = match &args.refund_date {
            Some(text) => Some(money::parse_date(text).ok_or_else(|| ConfigError::Key {
                path: args.incident.clone(),
                key: "--refund-date".to_string(),
                message: format!("`{text}` is not a date"),
                hint: Some("write it as YYYY-MM-DD".to_string()),
            })?),
            None => incident.refund_date,
        };
        if refund_date.is_none() && !matches!(incident.interest.source, RateSource::None) {
            return Err(ConfigError::Key {
                path: args.incident.clone(),
                key: "incident.refund_date".to_string(),
                message: "is required: interest runs to the refund date".to_string(),
                hint: Some(
                    "add refund_date = YYYY-MM-DD under [incident], or pass --refund-date"
                        .to_string(),
                ),
            });
        }
        if args.threads == Some(0) {
            return Err(ConfigError::Key {
                path: args.incident.clone(),
                key: "--threads".to_string(),
                message: "must be at least 1".to_string(),
                hint: None,
            });
        }
        Ok(Settings {
            incident,
            data_dir: args.data.clone(),
            refund_date,
            on_bad_rows: match args.on_bad_rows {
                OnBadRowsArg::Abort => OnBadRows::Abort,
                OnBadRowsArg::Reject => OnBadRows::Reject,
            },
            encoding: match args.encoding {
                EncodingArg::Utf8 => Encoding::Utf8,
                EncodingArg::Cp932 => Encoding::Cp932,
            },
            threads: args.threads,
            quiet: args.quiet,
        })
    }
}
