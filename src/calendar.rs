//! Japanese bank business days: the day a Zengin transfer file may be dated on. Banks are closed
//! on Saturdays, Sundays, national holidays (国民の祝日, 振替休日, 国民の休日) and the year-end
//! holidays (12/31–1/3). National holidays come from `data/jp_holidays.csv`, generated from the
//! maintained python-holidays calendar by `scripts/jp_holidays.py` (a test checks it is current);
//! a date outside its years is refused rather than guessed. Never decides anything but the day.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};

const TABLE: &str = include_str!("../data/jp_holidays.csv");

/// One national holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name_ja: &'static str,
    pub name_en: &'static str,
}

/// A date the calendar cannot judge: outside the years of `data/jp_holidays.csv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{date} is outside the bundled holiday calendar ({first} to {last}): whether banks open on it is not known"
)]
pub struct OutOfRange {
    pub date: NaiveDate,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// The bundled holidays, sorted; the table is checked by the tests, so a row that does not parse
/// is left out rather than stopping a run.
fn holidays() -> &'static [Holiday] {
    static HOLIDAYS: OnceLock<Vec<Holiday>> = OnceLock::new();
    HOLIDAYS.get_or_init(|| {
        let mut holidays: Vec<Holiday> = TABLE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with("date,"))
            .filter_map(|line| {
                let mut fields = line.splitn(3, ',');
                let date = NaiveDate::parse_from_str(fields.next()?, "%Y-%m-%d").ok()?;
                Some(Holiday {
                    date,
                    name_ja: fields.next()?,
                    name_en: fields.next()?,
                })
            })
            .collect();
        holidays.sort_by_key(|holiday| holiday.date);
        holidays
    })
}

/// The years the calendar covers: 1 January of its first year to 31 December of its last.
pub fn coverage() -> (NaiveDate, NaiveDate) {
    let holidays = holidays();
    let year = |holiday: Option<&Holiday>| holiday.map_or(1955, |holiday| holiday.date.year());
    (
        NaiveDate::from_ymd_opt(year(holidays.first()), 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year(holidays.last()), 12, 31).unwrap_or(NaiveDate::MIN),
    )
}

/// The national holiday on `date`, if any.
pub fn national_holiday(date: NaiveDate) -> Option<&'static Holiday> {
    let holidays = holidays();
    holidays
        .binary_search_by_key(&date, |holiday| holiday.date)
        .ok()
        .map(|index| &holidays[index])
}

/// Why Japanese banks are closed on `date` (`None` on a business day), e.g. `a Sunday`,
/// `a national holiday (春分の日, Vernal Equinox Day)`.
pub fn bank_holiday(date: NaiveDate) -> Result<Option<String>, OutOfRange> {
    let (first, last) = coverage();
    if date < first || date > last {
        return Err(OutOfRange { date, first, last });
    }
    Ok(match (date.weekday(), date.month(), date.day()) {
        (Weekday::Sat, _, _) => Some("a Saturday".to_string()),
        (Weekday::Sun, _, _) => Some("a Sunday".to_string()),
        (_, 12, 31) | (_, 1, 1..=3) => Some("a year-end bank holiday (12/31–1/3)".to_string()),
        _ => national_holiday(date).map(|holiday| {
            format!(
                "a national holiday ({}, {})",
                holiday.name_ja, holiday.name_en
            )
        }),
    })
}

/// The first bank business day from `date` on (`date` itself when it is one); `None` past the
/// calendar's last year.
pub fn next_business_day(date: NaiveDate) -> Option<NaiveDate> {
    let mut day = date;
    loop {
        match bank_holiday(day) {
            Ok(None) => return Some(day),
            Ok(Some(_)) => day = day.succ_opt()?,
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_year_end_and_national_holidays() {
        assert_eq!(
            bank_holiday(date("2009-05-31")).unwrap().as_deref(),
            Some("a Sunday")
        );
        assert_eq!(
            bank_holiday(date("2009-05-30")).unwrap().as_deref(),
            Some("a Saturday")
        );
        assert_eq!(bank_holiday(date("2009-05-29")).unwrap(), None);
        assert!(bank_holiday(date("2024-12-31")).unwrap().is_some());
        assert!(bank_holiday(date("2025-01-03")).unwrap().is_some());
        // 春分の日 2025, and a substitute holiday (振替休日) after a Sunday holiday.
        assert_eq!(
            bank_holiday(date("2025-03-20")).unwrap().as_deref(),
            Some("a national holiday (春分の日, Vernal Equinox Day)")
        );
        assert!(bank_holiday(date("2025-05-06")).unwrap().is_some());
        // The one-off days: the 2019 enthronement and the Olympic shifts of 2020 and 2021.
        assert!(bank_holiday(date("2019-10-22")).unwrap().is_some());
        assert!(bank_holiday(date("2020-07-24")).unwrap().is_some());
        assert!(bank_holiday(date("2021-07-23")).unwrap().is_some());
        assert_eq!(
            bank_holiday(date("2021-10-11")).unwrap(),
            None,
            "moved to 7/23"
        );
        assert!(
            bank_holiday(date("2021-07-19")).unwrap().is_none(),
            "Marine Day moved to 7/22"
        );
    }

    #[test]
    fn the_next_business_day_skips_runs_of_holidays() {
        assert_eq!(
            next_business_day(date("2009-05-30")),
            Some(date("2009-06-01"))
        );
        assert_eq!(
            next_business_day(date("2024-12-31")),
            Some(date("2025-01-06"))
        );
        // Golden Week 2025: 5/3 (Sat) to 5/6 (substitute holiday).
        assert_eq!(
            next_business_day(date("2025-05-03")),
            Some(date("2025-05-07"))
        );
        assert_eq!(
            next_business_day(date("2009-05-29")),
            Some(date("2009-05-29"))
        );
    }

    #[test]
    fn dates_outside_the_calendar_are_refused() {
        let (first, last) = coverage();
        assert_eq!((first, last), (date("1955-01-01"), date("2050-12-31")));
        assert!(bank_holiday(date("2051-01-10")).is_err());
        assert_eq!(next_business_day(date("2050-12-31")), None);
    }

    #[test]
    fn every_row_of_the_table_parses() {
        let rows = TABLE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with("date,"))
            .count();
        assert_eq!(holidays().len(), rows);
        assert!(rows > 1000);
    }
}
