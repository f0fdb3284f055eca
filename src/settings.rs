//! CLI arguments and the incident file resolved once into the settings every stage uses. No later
//! stage sees clap types or re-reads the incident file.

use std::path::PathBuf;

use chrono::NaiveDate;

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
    /// `run --out`: where the outputs are written (`None` for `check` and `explain`).
    pub out: Option<PathBuf>,
    /// `run --force`: replace an existing output directory.
    pub force: bool,
    /// `run --templates`: templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
}

/// What a command asks for, before it is resolved against the incident file: every option as a
/// value, no clap type. `cli` fills one from the command line; `demo` and the tests build one.
///
/// ```no_run
/// # use redress::settings::SettingsBuilder;
/// let settings = SettingsBuilder::new("incident.toml")
///     .data("billing")
///     .refund_date("2009-06-30")
///     .out("out")
///     .build()?;
/// # Ok::<(), redress::incident::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SettingsBuilder {
    incident: PathBuf,
    data: Option<PathBuf>,
    aggregates: Option<PathBuf>,
    /// As typed, so that a bad date is blamed on the option that gave it.
    refund_date: Option<String>,
    transfer_date: Option<String>,
    on_bad_rows: OnBadRows,
    encoding: Encoding,
    threads: Option<usize>,
    quiet: u8,
    previous: Vec<PathBuf>,
    paid: Vec<PathBuf>,
    pdf: bool,
    out: Option<PathBuf>,
    force: bool,
    templates: Option<PathBuf>,
}

impl SettingsBuilder {
    /// A command on the incident file `incident`, every option at its default.
    pub fn new(incident: impl Into<PathBuf>) -> SettingsBuilder {
        SettingsBuilder {
            incident: incident.into(),
            ..SettingsBuilder::default()
        }
    }

    /// `--data`: the directory holding accounts, charges and events.
    pub fn data(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data = Some(dir.into());
        self
    }

    /// `run --aggregates`: read what a planned stage wrote instead of `--data`.
    pub fn aggregates(mut self, location: impl Into<PathBuf>) -> Self {
        self.aggregates = Some(location.into());
        self
    }

    /// `--refund-date`, as typed (YYYY-MM-DD).
    pub fn refund_date(mut self, date: impl Into<String>) -> Self {
        self.refund_date = Some(date.into());
        self
    }

    /// `--transfer-date`, as typed (YYYY-MM-DD).
    pub fn transfer_date(mut self, date: impl Into<String>) -> Self {
        self.transfer_date = Some(date.into());
        self
    }

    /// `--on-bad-rows` (default: abort).
    pub fn on_bad_rows(mut self, on_bad_rows: OnBadRows) -> Self {
        self.on_bad_rows = on_bad_rows;
        self
    }

    /// `--encoding` of CSV inputs (default: UTF-8).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// `--threads` (default: all cores).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// `-q` given `quiet` times.
    pub fn quiet(mut self, quiet: u8) -> Self {
        self.quiet = quiet;
        self
    }

    /// `run --previous`: earlier outputs this run nets against.
    pub fn previous(mut self, dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        self.previous = dirs.into_iter().collect();
        self
    }

    /// `run --paid`: refunds paid outside redress.
    pub fn paid(mut self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        self.paid = files.into_iter().collect();
        self
    }

    /// `run --pdf`.
    pub fn pdf(mut self, pdf: bool) -> Self {
        self.pdf = pdf;
        self
    }

    /// `run --out`.
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = Some(dir.into());
        self
    }

    /// `run --force`.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// `run --templates`.
    pub fn templates(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates = Some(dir.into());
        self
    }

    /// Reads the incident file and resolves every option against it, once.
    pub fn build(self) -> Result<Settings, ConfigError> {
        Settings::resolve(self)
    }
}

impl Settings {
    fn resolve(args: SettingsBuilder) -> Result<Settings, ConfigError> {
        let incident = Incident::load(&args.incident)?;
        let data_dir = match (&args.data, &args.aggregates) {
            (Some(data), _) => data.clone(),
            (None, Some(aggregates)) => aggregates.clone(),
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
        let refund_date = refund_date(&args, &incident)?;
        let transfer_date = transfer_date(&args, &incident, refund_date)?;
        if args.aggregates.is_some() && args.on_bad_rows == OnBadRows::Reject {
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
            aggregates: args.aggregates,
            refund_date,
            transfer_date,
            on_bad_rows: args.on_bad_rows,
            encoding: args.encoding,
            threads: args.threads,
            quiet: args.quiet,
            previous: args.previous,
            paid: args.paid,
            pdf: args.pdf,
            out: args.out,
            force: args.force,
            templates: args.templates,
        })
    }
}

/// The date interest runs to: `--refund-date`, else `incident.refund_date`; required when interest
/// is computed, and a bank business day when a Zengin file is dated on it.
fn refund_date(
    args: &SettingsBuilder,
    incident: &Incident,
) -> Result<Option<NaiveDate>, ConfigError> {
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
    args: &SettingsBuilder,
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
