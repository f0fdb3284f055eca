//! Japanese era dates (和暦) for documents whose incident sets `date_style = "wareki"`:
//! 平成13年8月22日, 令和元年5月1日. Only formatting; the dates themselves stay ISO everywhere else
//! (ledgers, payout files, summary.json).

use chrono::{Datelike, NaiveDate};

/// Eras from the adoption of the Gregorian calendar (明治6年, 1873), newest first: name and first
/// day.
const ERAS: [(&str, i32, u32, u32); 5] = [
    ("令和", 2019, 5, 1),
    ("平成", 1989, 1, 8),
    ("昭和", 1926, 12, 25),
    ("大正", 1912, 7, 30),
    ("明治", 1868, 1, 25),
];

/// The era and its year of `date` (1 for the first year), or `None` before 1873, when Japan used
/// another calendar.
fn era_year(date: NaiveDate) -> Option<(&'static str, i32)> {
    if date.year() < 1873 {
        return None;
    }
    ERAS.iter().find_map(|&(name, year, month, day)| {
        let first = NaiveDate::from_ymd_opt(year, month, day)?;
        (date >= first).then(|| (name, date.year() - year + 1))
    })
}

/// `元年` for the first year of an era, `13年` otherwise.
fn year_text(year: i32) -> String {
    if year == 1 {
        "元年".to_string()
    } else {
        format!("{year}年")
    }
}

/// `平成13年8月22日`; a date before 1873 in the Gregorian form.
pub fn date(date: NaiveDate) -> String {
    match era_year(date) {
        Some((era, year)) => format!("{era}{}{}月{}日", year_text(year), date.month(), date.day()),
        None => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

/// `平成13年8月` for the month starting on `first_day` (a month in which the era changed is named
/// by the era of its first day).
pub fn month(first_day: NaiveDate) -> String {
    match era_year(first_day) {
        Some((era, year)) => format!("{era}{}{}月", year_text(year), first_day.month()),
        None => format!("{}年{}月", first_day.year(), first_day.month()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn era_boundaries_and_first_years() {
        // The 2001 NTT release is dated 平成13年8月22日.
        assert_eq!(date(day("2001-08-22")), "平成13年8月22日");
        assert_eq!(date(day("2019-04-30")), "平成31年4月30日");
        assert_eq!(date(day("2019-05-01")), "令和元年5月1日");
        assert_eq!(date(day("2025-04-30")), "令和7年4月30日");
        assert_eq!(date(day("1989-01-07")), "昭和64年1月7日");
        assert_eq!(date(day("1989-01-08")), "平成元年1月8日");
        assert_eq!(date(day("1926-12-25")), "昭和元年12月25日");
        assert_eq!(date(day("1912-07-30")), "大正元年7月30日");
        assert_eq!(date(day("1873-01-01")), "明治6年1月1日");
        assert_eq!(date(day("1872-12-31")), "1872年12月31日");
        assert_eq!(month(day("2019-05-01")), "令和元年5月");
        assert_eq!(month(day("2001-09-01")), "平成13年9月");
    }
}
