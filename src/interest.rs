//! Interest on a paid over-billed invoice (SPEC §4): accrual days, the rate in force, the day-count
//! basis, and one exact rational sum rounded once. Never rounds per day or per segment.

use chrono::{Datelike, Days, NaiveDate};
use num_bigint::BigInt;
use num_traits::{One, Zero};
use rust_decimal::Decimal;

use crate::incident::{Basis, FirstDay, InterestPolicy, RateAt, RateSource};
use crate::money::{self, Money};

/// The last day the statutory 3% rate is confirmed for.
pub const STATUTORY_CONFIRMED_TO: (i32, u32, u32) = (2029, 3, 31);

/// A rate the policy cannot give: a configuration error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterestError {
    #[error(
        "interest.schedule has no entry on or before {0}, an accrual day\nhint: start the schedule earlier, e.g. from = 1900-01-01"
    )]
    BeforeSchedule(NaiveDate),
    #[error(
        "the statutory rate (Civil Code art. 404) is confirmed only to 2029-03-31, and accrual day {0} is after it\nhint: give policy = \"schedule\" with the rate in force"
    )]
    StatutoryUnknown(NaiveDate),
    #[error("interest overflows for an invoice of {0} minor units")]
    Overflow(i64),
}

/// Interest on one invoice, with what explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub days: i64,
    /// The single rate over all accrual days; `None` when there is no accrual day or rates varied.
    pub rate: Option<Decimal>,
    pub amount: Money,
    /// Accrual segments: (first day, last day, rate, basis days).
    pub segments: Vec<(NaiveDate, NaiveDate, Decimal, i64)>,
}

impl Interest {
    /// No interest, after `days` accrual days, in the currency with `digits` decimals.
    pub fn none(days: i64, digits: u32) -> Interest {
        Interest {
            days,
            rate: None,
            amount: Money::zero(digits),
            segments: Vec::new(),
        }
    }
}

/// The rate in force on `day`.
pub fn rate_on(source: &RateSource, day: NaiveDate) -> Result<Decimal, InterestError> {
    match source {
        RateSource::None => Ok(Decimal::ZERO),
        RateSource::Fixed(rate) => Ok(*rate),
        RateSource::Schedule(entries) => entries
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .map(|(_, rate)| *rate)
            .ok_or(InterestError::BeforeSchedule(day)),
        RateSource::StatutoryJp => {
            let (year, month, date) = STATUTORY_CONFIRMED_TO;
            if day < ymd(2020, 4, 1) {
                Ok(Decimal::new(5, 2))
            } else if day <= ymd(year, month, date) {
                Ok(Decimal::new(3, 2))
            } else {
                Err(InterestError::StatutoryUnknown(day))
            }
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// Days after which the rate may change (schedule starts), inside `[first, last]`.
fn rate_breaks(source: &RateSource, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let starts: Vec<NaiveDate> = match source {
        RateSource::Schedule(entries) => entries.iter().map(|(from, _)| *from).collect(),
        RateSource::StatutoryJp => vec![ymd(2020, 4, 1), ymd(2029, 4, 1)],
        RateSource::None | RateSource::Fixed(_) => Vec::new(),
    };
    starts
        .into_iter()
        .filter(|day| *day > first && *day <= last)
        .collect()
}

fn basis_days(basis: Basis, day: NaiveDate) -> i64 {
    match basis {
        Basis::Act365Fixed => 365,
        Basis::ActAct => {
            if NaiveDate::from_ymd_opt(day.year(), 2, 29).is_some() {
                366
            } else {
                365
            }
        }
    }
}

/// Interest on `principal` (X) paid on `paid_on`, refunded on `refund_date`.
pub fn compute(
    principal: Money,
    paid_on: NaiveDate,
    refund_date: Option<NaiveDate>,
    policy: &InterestPolicy,
) -> Result<Interest, InterestError> {
    let Some(refund_date) = refund_date else {
        return Ok(Interest::none(0, principal.digits()));
    };
    let first = match policy.first_day {
        FirstDay::Excluded => match paid_on.checked_add_days(Days::new(1)) {
            Some(day) => day,
            None => return Ok(Interest::none(0, principal.digits())),
        },
        FirstDay::Included => paid_on,
    };
    if first > refund_date {
        return Ok(Interest::none(0, principal.digits()));
    }
    let days = (refund_date - first).num_days() + 1;
    // Split the accrual period where the rate or the basis may change.
    let mut breaks = match policy.rate_at {
        RateAt::Daily => rate_breaks(&policy.source, first, refund_date),
        RateAt::AccrualStart => Vec::new(),
    };
    if policy.basis == Basis::ActAct {
        for year in first.year() + 1..=refund_date.year() {
            breaks.push(ymd(year, 1, 1));
        }
    }
    breaks.sort();
    breaks.dedup();
    let fixed_rate = match policy.rate_at {
        RateAt::AccrualStart => Some(rate_on(&policy.source, first)?),
        RateAt::Daily => None,
    };
    let mut segments = Vec::new();
    let mut start = first;
    for boundary in breaks.into_iter().chain(std::iter::once(
        refund_date.succ_opt().unwrap_or(NaiveDate::MAX),
    )) {
        if boundary <= start {
            continue;
        }
        let end = boundary.pred_opt().unwrap_or(start).min(refund_date);
        let rate = match fixed_rate {
            Some(rate) => rate,
            None => rate_on(&policy.source, start)?,
        };
        segments.push((start, end, rate, basis_days(policy.basis, start)));
        start = boundary;
        if start > refund_date {
            break;
        }
    }
    // Σ days × rate / basis as one exact fraction.
    let mut numerator = BigInt::zero();
    let mut denominator = BigInt::one();
    for (segment_start, segment_end, rate, basis) in &segments {
        let segment_days = (*segment_end - *segment_start).num_days() + 1;
        let rate = rate.normalize();
        let term_numerator = BigInt::from(segment_days) * BigInt::from(rate.mantissa());
        let term_denominator = BigInt::from(10u8).pow(rate.scale()) * BigInt::from(*basis);
        numerator = numerator * &term_denominator + term_numerator * &denominator;
        denominator *= term_denominator;
    }
    let amount = money::round_big_ratio(
        &(numerator * BigInt::from(principal.minor())),
        &denominator,
        policy.rounding,
    );
    let amount = i64::try_from(amount)
        .map(|minor| principal.with_minor(minor))
        .map_err(|_| InterestError::Overflow(principal.minor()))?;
    let first_rate = segments.first().map(|segment| segment.2);
    let uniform = first_rate.filter(|rate| segments.iter().all(|segment| segment.2 == *rate));
    Ok(Interest {
        days,
        rate: uniform,
        amount,
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rounding;

    fn policy(
        source: RateSource,
        rate_at: RateAt,
        basis: Basis,
        first_day: FirstDay,
    ) -> InterestPolicy {
        InterestPolicy {
            source,
            rate_at,
            basis,
            first_day,
            rounding: Rounding::Down,
        }
    }

    fn date(text: &str) -> NaiveDate {
        money::parse_date(text).unwrap()
    }

    #[test]
    fn fixed_tariff_rate_act365() {
        // 10,000 yen paid 2009-01-31, refunded 2009-12-31, 14.5%, first day excluded:
        // 334 days → 10,000 × 0.145 × 334 / 365 = 1,326.84… → 1,326.
        let p = policy(
            RateSource::Fixed(Decimal::new(145, 3)),
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        let interest = compute(
            Money::new(10_000, 0),
            date("2009-01-31"),
            Some(date("2009-12-31")),
            &p,
        )
        .unwrap();
        assert_eq!(
            (interest.days, interest.amount.minor(), interest.rate),
            (334, 1326, Some(Decimal::new(145, 3)))
        );
        // First day included: 335 days → 1,330.82… → 1,330.
        let p = policy(
            RateSource::Fixed(Decimal::new(145, 3)),
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Included,
        );
        let interest = compute(
            Money::new(10_000, 0),
            date("2009-01-31"),
            Some(date("2009-12-31")),
            &p,
        )
        .unwrap();
        assert_eq!((interest.days, interest.amount.minor()), (335, 1330));
    }

    #[test]
    fn leap_year_bases() {
        // 100,000 paid 2023-12-31, refunded 2024-12-31: 366 days in leap 2024, 5%.
        // act365_fixed: 100,000 × 0.05 × 366/365 = 5,013.69… → 5,013.
        // act_act: 366/366 → exactly 5,000.
        let fixed = RateSource::Fixed(Decimal::new(5, 2));
        let p = policy(
            fixed.clone(),
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        assert_eq!(
            compute(
                Money::new(100_000, 0),
                date("2023-12-31"),
                Some(date("2024-12-31")),
                &p
            )
            .unwrap()
            .amount
            .minor(),
            5013
        );
        let p = policy(
            fixed,
            RateAt::AccrualStart,
            Basis::ActAct,
            FirstDay::Excluded,
        );
        let interest = compute(
            Money::new(100_000, 0),
            date("2023-12-31"),
            Some(date("2024-12-31")),
            &p,
        )
        .unwrap();
        assert_eq!((interest.days, interest.amount.minor()), (366, 5000));
    }

    #[test]
    fn act_act_across_a_year_end() {
        // 36,500 paid 2023-12-21, refunded 2024-01-10 at 10%: 10 days in 2023 (/365), 10 in 2024 (/366).
        // 36,500 × 0.1 × (10/365 + 10/366) = 100 + 99.726… = 199.72… → down 199, half_up 200.
        let mut p = policy(
            RateSource::Fixed(Decimal::new(1, 1)),
            RateAt::AccrualStart,
            Basis::ActAct,
            FirstDay::Excluded,
        );
        assert_eq!(
            compute(
                Money::new(36_500, 0),
                date("2023-12-21"),
                Some(date("2024-01-10")),
                &p
            )
            .unwrap()
            .amount
            .minor(),
            199
        );
        p.rounding = Rounding::HalfUp;
        assert_eq!(
            compute(
                Money::new(36_500, 0),
                date("2023-12-21"),
                Some(date("2024-01-10")),
                &p
            )
            .unwrap()
            .amount
            .minor(),
            200
        );
    }

    #[test]
    fn statutory_change_on_2020_04_01() {
        // 36,500 paid 2020-03-21, refunded 2020-04-10: accrual 03-22..04-10 = 20 days.
        // accrual_start: 5% for all 20 days → 36,500 × 0.05 × 20/365 = 100.
        // daily: 03-22..03-31 = 10 days at 5% (50) + 04-01..04-10 = 10 days at 3% (30) = 80; rate varied.
        let p = policy(
            RateSource::StatutoryJp,
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        let interest = compute(
            Money::new(36_500, 0),
            date("2020-03-21"),
            Some(date("2020-04-10")),
            &p,
        )
        .unwrap();
        assert_eq!(
            (interest.days, interest.amount.minor(), interest.rate),
            (20, 100, Some(Decimal::new(5, 2)))
        );
        let p = policy(
            RateSource::StatutoryJp,
            RateAt::Daily,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        let interest = compute(
            Money::new(36_500, 0),
            date("2020-03-21"),
            Some(date("2020-04-10")),
            &p,
        )
        .unwrap();
        assert_eq!(
            (interest.days, interest.amount.minor(), interest.rate),
            (20, 80, None)
        );
    }

    #[test]
    fn statutory_beyond_its_confirmed_end_is_an_error() {
        let p = policy(
            RateSource::StatutoryJp,
            RateAt::Daily,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        assert_eq!(
            compute(
                Money::new(1000, 0),
                date("2029-03-01"),
                Some(date("2029-05-01")),
                &p
            ),
            Err(InterestError::StatutoryUnknown(date("2029-04-01")))
        );
        // accrual_start only needs the first day's rate.
        let p = policy(
            RateSource::StatutoryJp,
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        assert!(
            compute(
                Money::new(1000, 0),
                date("2029-03-01"),
                Some(date("2029-05-01")),
                &p
            )
            .is_ok()
        );
    }

    #[test]
    fn schedule_lookup_and_gaps() {
        let schedule = RateSource::Schedule(vec![
            (date("2010-01-01"), Decimal::new(5, 2)),
            (date("2010-01-11"), Decimal::new(3, 2)),
        ]);
        // 36,500 paid 2010-01-05 → accrual 01-06..01-15 (10 days): daily = 5 days 5% (25) + 5 days 3% (15) = 40.
        let p = policy(
            schedule.clone(),
            RateAt::Daily,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        assert_eq!(
            compute(
                Money::new(36_500, 0),
                date("2010-01-05"),
                Some(date("2010-01-15")),
                &p
            )
            .unwrap()
            .amount
            .minor(),
            40
        );
        let p = policy(
            schedule,
            RateAt::Daily,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        assert_eq!(
            compute(
                Money::new(36_500, 0),
                date("2009-12-30"),
                Some(date("2010-01-15")),
                &p
            ),
            Err(InterestError::BeforeSchedule(date("2009-12-31")))
        );
    }

    #[test]
    fn no_accrual_day() {
        let p = policy(
            RateSource::Fixed(Decimal::new(145, 3)),
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Excluded,
        );
        // Paid on the refund date with first day excluded: nothing accrues.
        let interest = compute(
            Money::new(10_000, 0),
            date("2009-12-31"),
            Some(date("2009-12-31")),
            &p,
        )
        .unwrap();
        assert_eq!(
            (interest.days, interest.amount.minor(), interest.rate),
            (0, 0, None)
        );
        // Included: one day: 10,000 × 0.145 / 365 = 3.97 → 3.
        let p = policy(
            RateSource::Fixed(Decimal::new(145, 3)),
            RateAt::AccrualStart,
            Basis::Act365Fixed,
            FirstDay::Included,
        );
        assert_eq!(
            compute(
                Money::new(10_000, 0),
                date("2009-12-31"),
                Some(date("2009-12-31")),
                &p
            )
            .unwrap()
            .amount
            .minor(),
            3
        );
    }
}
