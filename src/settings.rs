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
    /// The date bank transfers are executed (the Zengin file's transfer date, and the date notices
    /// give): `--transfer-date`, else the refund date. A bank business day when a Zengin file is
    /// written.
    pub transfer_date: Option<NaiveDate>,
    pub on_bad_rows: OnBadRows,
    pub encoding: Encoding,
    pub threads: Option<usize>,
    /// `-q` (1): no progress bars; `-qq` (2): nothing but errors.
    pub quiet: u8,
    /// `run --previous`: earlier outputs of the same incident this run nets against.
    pub previous: Vec<PathBuf>,
    /// `run --paid`: refunds paid outside redress.
    pub paid: Vec<PathBuf>,
    /// `run --pdf`: PDF copies of the notices, printed by a headless Chromium.
    pub pdf: bool,
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
        let transfer_date = transfer_date(args, &incident, refund_date)?;
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
            transfer_date,
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
            pdf: false,
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
    Ok(refund_date)
}

/// The transfer date: `--transfer-date`, else the refund date. When a Zengin file is dated on it
/// (JPY with `[payout.zengin]`), a Japanese bank business day; never before the refund date, which
/// interest runs to.
fn transfer_date(
    args: &InputArgs,
    incident: &Incident,
    refund_date: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, ConfigError> {
    let flag_error = |message: String, hint: Option<String>| ConfigError::Flag {
        flag: "--transfer-date",
        message,
        hint,
    };
    let transfer_date = match &args.transfer_date {
        Some(text) => {
            let date = money::parse_date(text).ok_or_else(|| {
                flag_error(
                    format!("`{text}` is not a date"),
                    Some("write it as YYYY-MM-DD".to_string()),
                )
            })?;
            if let Some(refund_date) = refund_date
                && date < refund_date
            {
                return Err(flag_error(
                    format!(
                        "{date} is before the refund date {refund_date}: interest runs to the refund date, so the money cannot be paid before it"
                    ),
                    Some(format!(
                        "give a transfer date on or after {refund_date}, or move the refund date (--refund-date)"
                    )),
                ));
            }
            Some(date)
        }
        None => refund_date,
    };
    let (Some(date), Some(_), "JPY") = (
        transfer_date,
        &incident.payout.zengin,
        incident.currency.code,
    ) else {
        return Ok(transfer_date);
    };
    let closed = match crate::calendar::bank_holiday(date) {
        Ok(None) => return Ok(transfer_date),
        Ok(Some(why)) => {
            format!("{date} is {why}: banks do not execute the Zengin transfer file on it")
        }
        Err(error) => format!("{error}, so the Zengin transfer file cannot be dated on it"),
    };
    let hint = Some(match crate::calendar::next_business_day(date) {
        Some(next) => format!(
            "the next bank business day is {next}: pass --transfer-date {next} (interest still runs to the refund date), or choose another refund date"
        ),
        None => "choose a date the bundled calendar covers (data/jp_holidays.csv)".to_string(),
    });
    Err(if args.transfer_date.is_some() {
        flag_error(closed, hint)
    } else if args.refund_date.is_some() {
        ConfigError::Flag {
            flag: "--refund-date",
            message: format!("{closed} (the transfer date is the refund date)"),
            hint,
        }
    } else {
        ConfigError::Key {
            path: args.incident.clone(),
            key: "incident.refund_date".to_string(),
            message: format!("{closed} (the transfer date is the refund date)"),
            hint,
        }
    })
}
