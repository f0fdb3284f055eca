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
    /// `--data`, or for a run from aggregates the aggregates location.
    pub data_dir: PathBuf,
    /// `run --aggregates`: the location a planned stage wrote to.
    pub aggregates: Option<PathBuf>,
    /// The date interest runs to: `--refund-date`, else `incident.refund_date`.
    pub refund_date: Option<NaiveDate>,
    pub on_bad_rows: OnBadRows,
    pub encoding: Encoding,
    pub threads: Option<usize>,
    pub quiet: bool,
    /// `run --previous`: earlier outputs of the same incident this run nets against.
    pub previous: Vec<PathBuf>,
    /// `run --paid`: refunds paid outside redress.
    pub paid: Vec<PathBuf>,
}

impl Settings {
    pub fn resolve(args: &InputArgs) -> Result<Settings, ConfigError> {
        Settings::resolve_with(args, None)
    }

    /// [`Settings::resolve`] for a run that reads what a planned stage wrote instead of `--data`.
    pub fn resolve_with(
        args: &InputArgs,
        aggregates: Option<&std::path::Path>,
    ) -> Result<Settings, ConfigError> {
        let incident = Incident::load(&args.incident)?;
        let data_dir = match (&args.data, aggregates) {
            (Some(data), _) => data.clone(),
            (None, Some(aggregates)) => aggregates.to_path_buf(),
            (None, None) => {
                return Err(ConfigError::Flag {
                    flag: "--data",
                    message: "is required: the directory holding accounts, charges and events"
                        .to_string(),
                    hint: Some(
                        "pass --data DIR (or, for `run`, --aggregates LOCATION of a planned stage)"
                            .to_string(),
                    ),
                });
            }
        };
        let refund_date = refund_date(args, &incident)?;
        if aggregates.is_some() && args.on_bad_rows == OnBadRowsArg::Reject {
            return Err(ConfigError::Flag {
                flag: "--on-bad-rows",
                message: "`reject` needs the rows themselves; a run from aggregates stops on bad data"
                    .to_string(),
                hint: Some(
                    "fix the rows the stage reported and run it again, or run `redress run --data --on-bad-rows reject` where the data is readable"
                        .to_string(),
                ),
            });
        }
        if args.threads == Some(0) {
            return Err(ConfigError::Flag {
                flag: "--threads",
                message: "must be at least 1".to_string(),
                hint: None,
            });
        }
        Ok(Settings {
            incident,
            data_dir,
            aggregates: aggregates.map(std::path::Path::to_path_buf),
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
            previous: Vec::new(),
            paid: Vec::new(),
        })
    }
}

/// The date interest runs to: `--refund-date`, else `incident.refund_date`; required when interest
/// is computed, and a bank business day when a Zengin file is dated on it.
fn refund_date(args: &InputArgs, incident: &Incident) -> Result<Option<NaiveDate>, ConfigError> {
    let refund_date = match &args.refund_date {
        Some(text) => Some(money::parse_date(text).ok_or_else(|| ConfigError::Flag {
            flag: "--refund-date",
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
                "add refund_date = YYYY-MM-DD under [incident], or pass --refund-date".to_string(),
            ),
        });
    }
    if let (Some(date), Some(_), "JPY") =
        (refund_date, &incident.payout.zengin, incident.currency.code)
        && let Some(why) = bank_holiday(date)
    {
        let message = format!(
            "{date} is {why}: the Zengin transfer file is dated on the refund date, and banks do not execute transfers on it"
        );
        let hint = Some(format!(
            "choose a bank business day, e.g. {}",
            next_business_day(date)
        ));
        return Err(if args.refund_date.is_some() {
            ConfigError::Flag {
                flag: "--refund-date",
                message,
                hint,
            }
        } else {
            ConfigError::Key {
                path: args.incident.clone(),
                key: "incident.refund_date".to_string(),
                message,
                hint,
            }
        });
    }
    Ok(refund_date)
}

/// Why Japanese banks are closed on `date`, if they are: weekends and the year-end holidays
/// (12/31–1/3). National holidays are not known to redress (no calendar is bundled).
pub fn bank_holiday(date: NaiveDate) -> Option<&'static str> {
    use chrono::{Datelike, Weekday};
    match (date.weekday(), date.month(), date.day()) {
        (Weekday::Sat, _, _) => Some("a Saturday"),
        (Weekday::Sun, _, _) => Some("a Sunday"),
        (_, 12, 31) | (_, 1, 1..=3) => Some("a year-end bank holiday (12/31–1/3)"),
        _ => None,
    }
}

/// The first day from `date` on that is not a [`bank_holiday`].
pub fn next_business_day(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while bank_holiday(day).is_some() {
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_holidays() {
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(bank_holiday(date("2009-05-31")), Some("a Sunday"));
        assert_eq!(bank_holiday(date("2009-05-30")), Some("a Saturday"));
        assert_eq!(bank_holiday(date("2009-05-29")), None);
        assert!(bank_holiday(date("2024-12-31")).is_some());
        assert!(bank_holiday(date("2025-01-03")).is_some());
        assert_eq!(next_business_day(date("2009-05-30")), date("2009-06-01"));
        assert_eq!(next_business_day(date("2024-12-31")), date("2025-01-06"));
    }
}
