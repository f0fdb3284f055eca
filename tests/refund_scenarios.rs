//! The refund arithmetic of SPEC §4 as scenario tables: each case is a few rows of one account
//! with the expected P, T, interest and totals worked out by hand in the comment above it.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::Path;

use chrono::NaiveDate;
use redress::incident::Incident;
use redress::model::{Account, AccountInput, BankDetails, ChargeRow, Event, Language, Status};
use redress::money::{Money, Month, parse_date, parse_decimal};
use redress::refund::{self, AccountClass, InvoiceClass, Outcome, PayoutChannel};

fn date(text: &str) -> NaiveDate {
    parse_date(text).unwrap()
}

fn incident(rule: &str, interest: &str, extra: &str) -> Incident {
    let text = format!(
        "[incident]\nid = \"t\"\nkind = \"{}\"\nrefund_date = 2020-06-30\n{extra}\n{rule}\n[interest]\n{interest}\n[payout]\nclosed = \"claim\"\nminimum_transfer = \"100\"\n",
        if rule.contains("reprice") {
            "missed_plan_change"
        } else if rule.contains("wlan") {
            "wrong_equipment_count"
        } else {
            "missed_cancellation"
        }
    );
    Incident::from_bytes(text.as_bytes(), Path::new("scenario.toml")).unwrap()
}

/// (month, start, end, item, quantity, unit_price, amount, tax_rate, paid_on)
type Row<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    i64,
    i64,
    &'a str,
    Option<&'a str>,
);

fn input(
    trigger: &str,
    rows: &[Row],
    untouched: &[(&str, &str, i64, Option<&str>)],
    events: Vec<Event>,
) -> AccountInput {
    AccountInput {
        account: Account {
            account_id: "A1".into(),
            holder_name: "H".into(),
            postal_code: None,
            address: None,
            email: None,
            language: Language::Ja,
            region: Some("east".into()),
            plan: None,
            customer_type: None,
            opened_on: None,
            status: Status::Active,
            closed_on: None,
            bank: BankDetails::default(),
            trigger_date: date(trigger),
        },
        rows: rows
            .iter()
            .map(
                |&(month, start, end, item, quantity, unit_price, amount, tax_rate, paid_on)| {
                    ChargeRow {
                        billing_month: Month::parse(month).unwrap(),
                        period_start: date(start),
                        period_end: date(end),
                        item: item.into(),
                        quantity,
                        unit_price: Money::new(unit_price, 0),
                        list_amount: Money::new(amount, 0),
                        discount_rate: parse_decimal("0").unwrap(),
                        amount: Money::new(amount, 0),
                        tax_rate: parse_decimal(tax_rate).unwrap(),
                        paid_on: paid_on.map(date),
                    }
                },
            )
            // Rows of an item no rule of these scenarios touches: they only enter B.
            .chain(untouched.iter().map(|&(month, tax_rate, amount, paid_on)| {
                let month = Month::parse(month).unwrap();
                ChargeRow {
                    billing_month: month,
                    period_start: month.first_day(),
                    period_end: month.last_day(),
                    item: "untouched_item".into(),
                    quantity: 1,
                    unit_price: Money::new(amount, 0),
                    list_amount: Money::new(amount, 0),
                    discount_rate: parse_decimal("0").unwrap(),
                    amount: Money::new(amount, 0),
                    tax_rate: parse_decimal(tax_rate).unwrap(),
                    paid_on: paid_on.map(date),
                }
            }))
            .collect(),
        events,
    }
}

fn affected(incident: &Incident, input: &AccountInput) -> refund::AccountRefund {
    match refund::compute(incident, incident.refund_date, input).unwrap() {
        Outcome::Affected(refund) => *refund,
        other => panic!("expected an affected account, got {other:?}"),
    }
}

const CANCEL: &str =
    "[rule]\nitems = [\"base_fee\", \"isp_fee\", \"discount\"]\neffective = \"event_date\"";
const NO_INTEREST: &str = "policy = \"none\"";

#[test]
fn mixed_rate_invoice_taxes_each_rate_once() {
    // Cancelled 2019-10-31. November invoice: base_fee 3,333 at 10% (unbillable) and an untouched
    // 1,001 at the reduced 8%. 10% group: B 3,333, D 3,333, S 0 → T = R(333.3) − R(0) = 333.
    // 8% group: B 1,001, D 0 → T 0. P 3,333, T 333, X 3,666; unpaid → correction.
    let incident = incident(CANCEL, NO_INTEREST, "");
    let input = input(
        "2019-10-31",
        &[(
            "2019-11",
            "2019-11-01",
            "2019-11-30",
            "base_fee",
            1,
            3333,
            3333,
            "0.10",
            None,
        )],
        &[("2019-11", "0.08", 1001, None)],
        vec![],
    );
    let refund = affected(&incident, &input);
    let invoice = &refund.invoices[0];
    assert_eq!(
        (
            invoice.principal.minor(),
            invoice.tax.minor(),
            invoice.class
        ),
        (3333, 333, InvoiceClass::Overbilled)
    );
    assert_eq!(
        (refund.refund_total.minor(), refund.correction_total.minor()),
        (0, 3666)
    );
    assert_eq!(
        (refund.class, refund.payout_channel),
        (AccountClass::Overbilled, PayoutChannel::None)
    );
}

#[test]
fn tax_is_rounded_per_invoice_not_per_line() {
    // Two unbillable rows of 1,006 at 8% plus untouched 1,001 in the same group.
    // B = 3,013 → R(241.04) = 241; S = 1,001 → R(80.08) = 80; T = 161 (per line it would be 80 + 80 = 160).
    let incident = incident(CANCEL, NO_INTEREST, "");
    let rows = [
        (
            "2018-05",
            "2018-05-01",
            "2018-05-31",
            "base_fee",
            1,
            1006,
            1006,
            "0.08",
            Some("2018-06-26"),
        ),
        (
            "2018-05",
            "2018-05-01",
            "2018-05-31",
            "isp_fee",
            1,
            1006,
            1006,
            "0.08",
            Some("2018-06-26"),
        ),
    ];
    let input = input(
        "2018-04-30",
        &rows,
        &[("2018-05", "0.080", 1001, Some("2018-06-26"))],
        vec![],
    );
    let refund = affected(&incident, &input);
    assert_eq!(
        (
            refund.refund_principal.minor(),
            refund.refund_tax.minor(),
            refund.refund_total.minor()
        ),
        (2012, 161, 2173)
    );
}

#[test]
fn every_tax_rounding_mode() {
    // One unbillable row of 1,005 at 8% with untouched 1,000: B 2,005 → 160.4, S 1,000 → 80.
    // down: 160 − 80 = 80; up: 161 − 80 = 81; half_up: 160 − 80 = 80; half_even: 160 − 80 = 80.
    // With untouched 1,001 instead: B 2,006 → 160.48, S 1,001 → 80.08:
    // down 160−80 = 80; up 161−81 = 80; half_up 160−80 = 80. And 1,025 + 1,000 at 10%: B 2,025 → 202.5:
    // half_up 203 − 100 = 103, half_even 202 − 100 = 102.
    let cases: [(&str, i64, i64, &str, i64); 7] = [
        ("down", 1005, 1000, "0.08", 80),
        ("up", 1005, 1000, "0.08", 81),
        ("half_up", 1005, 1000, "0.08", 80),
        ("half_even", 1005, 1000, "0.08", 80),
        ("up", 1005, 1001, "0.08", 80),
        ("half_up", 1025, 1000, "0.1", 103),
        ("half_even", 1025, 1000, "0.1", 102),
    ];
    for (mode, touched, untouched, rate, expected_tax) in cases {
        let incident = incident(
            CANCEL,
            NO_INTEREST,
            &format!("[tax]\nrounding = \"{mode}\"\n"),
        );
        let rows = [(
            "2020-01",
            "2020-01-01",
            "2020-01-31",
            "base_fee",
            1,
            touched,
            touched,
            rate,
            None,
        )];
        let input = input(
            "2019-12-31",
            &rows,
            &[("2020-01", rate, untouched, None)],
            vec![],
        );
        let refund = affected(&incident, &input);
        assert_eq!(
            refund.invoices[0].tax.minor(),
            expected_tax,
            "{mode} {touched}+{untouched} at {rate}"
        );
    }
}

#[test]
fn consumption_tax_changes_of_2014_and_2019() {
    // Cancelled 2014-02-28; 1,000 a month refunded: 2014-03 at 5% → 50, 2014-04 at 8% → 80.
    // 2019-09 at 8% and 2019-10 at 10% after a cancellation on 2019-08-31: 80 and 100.
    let incident = incident(CANCEL, NO_INTEREST, "");
    let rows = [
        (
            "2014-03",
            "2014-03-01",
            "2014-03-31",
            "base_fee",
            1,
            1000,
            1000,
            "0.05",
            None,
        ),
        (
            "2014-04",
            "2014-04-01",
            "2014-04-30",
            "base_fee",
            1,
            1000,
            1000,
            "0.08",
            None,
        ),
    ];
    let refund = affected(&incident, &input("2014-02-28", &rows, &[], vec![]));
    let taxes: Vec<i64> = refund
        .invoices
        .iter()
        .map(|invoice| invoice.tax.minor())
        .collect();
    assert_eq!(taxes, vec![50, 80]);
    let rows = [
        (
            "2019-09",
            "2019-09-01",
            "2019-09-30",
            "base_fee",
            1,
            1000,
            1000,
            "0.08",
            None,
        ),
        (
            "2019-10",
            "2019-10-01",
            "2019-10-31",
            "base_fee",
            1,
            1000,
            1000,
            "0.1",
            None,
        ),
        // A straddling line billed on the October invoice for September service at the old rate.
        (
            "2019-10",
            "2019-09-01",
            "2019-09-30",
            "isp_fee",
            1,
            500,
            500,
            "0.08",
            None,
        ),
    ];
    let refund = affected(&incident, &input("2019-08-31", &rows, &[], vec![]));
    let october = &refund.invoices[1];
    assert_eq!(
        (october.principal.minor(), october.tax.minor()),
        (1500, 140),
        "10% of 1,000 + 8% of 500"
    );
}

#[test]
fn straddling_period_and_negative_rows() {
    // Cancel effective 2009-03-10 (event_date). March base 3,100 for 31 days: 10 billable →
    // should 1,000, diff 2,100. A −620 discount for March: should −200, diff −420.
    // P = 1,680; 5%: B 2,480 → 124, S 800 → 40, T 84. X 1,764, paid 2009-04-26, no interest.
    let incident = incident(CANCEL, NO_INTEREST, "");
    let rows = [
        (
            "2009-03",
            "2009-03-01",
            "2009-03-31",
            "base_fee",
            1,
            3100,
            3100,
            "0.05",
            Some("2009-04-26"),
        ),
        (
            "2009-03",
            "2009-03-01",
            "2009-03-31",
            "discount",
            1,
            -620,
            -620,
            "0.05",
            Some("2009-04-26"),
        ),
    ];
    let refund = affected(&incident, &input("2009-03-10", &rows, &[], vec![]));
    assert_eq!(
        (
            refund.refund_principal.minor(),
            refund.refund_tax.minor(),
            refund.refund_total.minor()
        ),
        (1680, 84, 1764)
    );
    assert_eq!(refund.payout_channel, PayoutChannel::BillCredit);
}

#[test]
fn interest_on_paid_invoices_only() {
    // 14.5% fixed. 2020-01 invoice 10,000 at 10% paid 2020-02-26: X = 11,000, accrual
    // 2020-02-27..2020-06-30 = 125 days → 11,000 × 0.145 × 125 / 365 = 546.23 → 546.
    // 2020-02 invoice unpaid → correction 11,000 with no interest.
    let incident = incident(CANCEL, "policy = \"fixed\"\nrate = \"0.145\"", "");
    let rows = [
        (
            "2020-01",
            "2020-01-01",
            "2020-01-31",
            "base_fee",
            1,
            10000,
            10000,
            "0.1",
            Some("2020-02-26"),
        ),
        (
            "2020-02",
            "2020-02-01",
            "2020-02-29",
            "base_fee",
            1,
            10000,
            10000,
            "0.1",
            None,
        ),
    ];
    let refund = affected(&incident, &input("2019-12-31", &rows, &[], vec![]));
    assert_eq!(refund.invoices[0].interest.days, 125);
    assert_eq!(
        (
            refund.refund_interest.minor(),
            refund.refund_total.minor(),
            refund.correction_total.minor()
        ),
        (546, 11546, 11000)
    );
}

#[test]
fn under_billed_invoices_are_waived_and_mixed_accounts_reported() {
    // 300 a card. April billed 2 cards, truth 1 → over-billed 300 + 8% 24 = 324 (paid).
    // June billed 1 card, truth 3 → under-billed 600 + 48 = 648, waived. Class mixed.
    let rule = "[trigger]\nevent = \"equipment_count\"\n[rule]\nitems = [\"wlan_card\"]";
    let incident = incident(rule, NO_INTEREST, "");
    let events = vec![
        Event {
            kind: "equipment_count".into(),
            date: date("2018-04-01"),
            detail: Some("wlan_card".into()),
            quantity: Some(1),
        },
        Event {
            kind: "equipment_count".into(),
            date: date("2018-06-01"),
            detail: None,
            quantity: Some(3),
        },
    ];
    let rows = [
        (
            "2018-04",
            "2018-04-01",
            "2018-04-30",
            "wlan_card",
            2,
            300,
            600,
            "0.08",
            Some("2018-05-26"),
        ),
        (
            "2018-06",
            "2018-06-01",
            "2018-06-30",
            "wlan_card",
            1,
            300,
            300,
            "0.08",
            Some("2018-07-26"),
        ),
    ];
    let refund = affected(&incident, &input("2018-04-01", &rows, &[], events));
    assert_eq!(refund.class, AccountClass::Mixed);
    assert_eq!(
        (
            refund.refund_total.minor(),
            refund.underbilled_total.minor()
        ),
        (324, 648)
    );
    assert_eq!(
        (refund.overbilled_invoices, refund.underbilled_invoices),
        (1, 1)
    );
    assert_eq!(refund.invoices[1].class, InvoiceClass::Underbilled);
    assert_eq!(
        (
            refund.invoices[1].principal.minor(),
            refund.invoices[1].tax.minor()
        ),
        (-600, -48)
    );
}

#[test]
fn payout_channels() {
    // refund 1,100 (1,000 + 10%); minimum_transfer 100; closed accounts go to claim by policy.
    let incident_text = |payout: &str| {
        format!(
            "[incident]\nid = \"t\"\nkind = \"missed_cancellation\"\n[rule]\nitems = [\"base_fee\"]\n[interest]\npolicy = \"none\"\n[payout]\n{payout}\n[payout.zengin]\nrequester_code = \"0000012345\"\nrequester_name = \"ｶ)ﾃｽﾄ\"\nbank_code = \"0001\"\nbranch_code = \"001\"\naccount_type = \"ordinary\"\naccount_number = \"1234567\"\n"
        )
    };
    let complete = BankDetails {
        bank_code: Some("0001".into()),
        branch_code: Some("123".into()),
        account_type: Some(redress::model::BankAccountType::Ordinary),
        account_number: Some("1234567".into()),
        holder_kana: Some("ﾔﾏﾀﾞ ﾀﾛｳ".into()),
    };
    let broken = BankDetails {
        account_number: Some("12345".into()),
        ..complete.clone()
    };
    // (payout section, status, closed_on, bank, amount, expected channel)
    type Case = (
        &'static str,
        Status,
        Option<&'static str>,
        BankDetails,
        i64,
        PayoutChannel,
    );
    let cases: Vec<Case> = vec![
        (
            "active = \"bill_credit\"",
            Status::Active,
            None,
            BankDetails::default(),
            1000,
            PayoutChannel::BillCredit,
        ),
        (
            "active = \"bank_transfer\"",
            Status::Active,
            None,
            complete.clone(),
            1000,
            PayoutChannel::BankTransfer,
        ),
        (
            "active = \"bank_transfer\"",
            Status::Active,
            None,
            broken.clone(),
            1000,
            PayoutChannel::Claim,
        ),
        (
            "closed = \"bank_transfer\"",
            Status::Closed,
            Some("2020-01-01"),
            complete.clone(),
            1000,
            PayoutChannel::BankTransfer,
        ),
        (
            "closed = \"bank_transfer\"",
            Status::Closed,
            Some("2020-01-01"),
            broken,
            1000,
            PayoutChannel::Claim,
        ),
        (
            "closed = \"claim\"",
            Status::Closed,
            None,
            complete.clone(),
            1000,
            PayoutChannel::Claim,
        ),
        (
            "claim_if_closed_before = 2020-02-01",
            Status::Closed,
            Some("2020-01-31"),
            complete.clone(),
            1000,
            PayoutChannel::Claim,
        ),
        (
            "claim_if_closed_before = 2020-02-01",
            Status::Closed,
            Some("2020-02-01"),
            complete.clone(),
            1000,
            PayoutChannel::BankTransfer,
        ),
        (
            "minimum_transfer = \"1200\"",
            Status::Closed,
            None,
            complete.clone(),
            1000,
            PayoutChannel::Residual,
        ),
        (
            "minimum_transfer = \"1200\"",
            Status::Active,
            None,
            complete.clone(),
            1000,
            PayoutChannel::BillCredit,
        ),
        // 9,100,000,000 + 10% = 10,010,000,000: more than a Zengin amount field holds.
        (
            "active = \"bank_transfer\"",
            Status::Active,
            None,
            complete,
            9_100_000_000,
            PayoutChannel::Claim,
        ),
    ];
    for (payout, status, closed_on, bank, amount, expected) in cases {
        let incident =
            Incident::from_bytes(incident_text(payout).as_bytes(), Path::new("p.toml")).unwrap();
        let mut input = input(
            "2019-12-31",
            &[(
                "2020-01",
                "2020-01-01",
                "2020-01-31",
                "base_fee",
                1,
                amount,
                amount,
                "0.1",
                Some("2020-02-20"),
            )],
            &[],
            vec![],
        );
        input.account.status = status;
        input.account.closed_on = closed_on.map(date);
        input.account.bank = bank;
        assert_eq!(
            affected(&incident, &input).payout_channel,
            expected,
            "{payout} {status:?} {closed_on:?}"
        );
    }
}

#[test]
fn paid_on_must_agree_within_an_invoice() {
    let incident = incident(CANCEL, NO_INTEREST, "");
    let rows = [(
        "2020-01",
        "2020-01-01",
        "2020-01-31",
        "base_fee",
        1,
        1000,
        1000,
        "0.1",
        Some("2020-02-20"),
    )];
    let input = input(
        "2019-12-31",
        &rows,
        &[("2020-01", "0.1", 500, Some("2020-02-21"))],
        vec![],
    );
    let error = refund::compute(&incident, incident.refund_date, &input).unwrap_err();
    assert!(error.to_string().contains("disagree on paid_on"), "{error}");
}

#[test]
fn plan_change_discount_rate_with_match() {
    // Registered 2001-03-15; April list 1,000 billed at 30% (700); should be 35% off → 650, diff 50.
    // 5% tax: B 700 → 35, S 650 → 32 (32.5 down), T 3. X 53, paid; statutory 5%:
    // accrual 2001-05-27..2020-06-30 is long — use refund_date override via policy none here.
    let rule = "[rule]\n[[rule.reprice]]\nitem = \"kenta_toll\"\ndiscount_rate = \"0.35\"\nmatch_discount_rate = \"0.30\"";
    let incident = incident(rule, NO_INTEREST, "");
    let mut input = input(
        "2001-03-15",
        &[(
            "2001-04",
            "2001-04-01",
            "2001-04-30",
            "kenta_toll",
            1,
            1000,
            700,
            "0.05",
            Some("2001-05-26"),
        )],
        &[],
        vec![],
    );
    input.rows[0].list_amount = Money::new(1000, 0);
    input.rows[0].discount_rate = parse_decimal("0.3").unwrap();
    let refund = affected(&incident, &input);
    assert_eq!(
        (refund.refund_principal.minor(), refund.refund_tax.minor()),
        (50, 3)
    );
}

#[test]
fn billed_before_activation_with_tax_and_statutory_interest() {
    // Installation aborted 2024-11-10, activated 2025-01-15. 10% tax, statutory 3%.
    // November base 5,200 for 11-01..11-30 (trigger mid-period): 21 of 30 days unbillable →
    // should 5,200 × 9 / 30 = 1,560, diff 3,640; December wholly unbillable: diff 5,200;
    // January 01-01..01-31: 14 days unbillable → should 5,200 × 17 / 31 = 2,851.6 → 2,851, diff 2,349.
    // Taxes (B → S): Nov 520 − 156 = 364; Dec 520; Jan 520 − 285 = 235.
    // December paid 2025-01-27, refund 2025-04-30: 93 days; X = 5,720 × 0.03 × 93 / 365 = 43.72 → 43.
    let text = "[incident]\nid = \"n\"\nkind = \"billed_before_activation\"\nrefund_date = 2025-04-30\n[interest]\npolicy = \"statutory_jp\"\n";
    let incident = Incident::from_bytes(text.as_bytes(), Path::new("n.toml")).unwrap();
    let rows = [
        (
            "2024-11",
            "2024-11-01",
            "2024-11-30",
            "base_fee",
            1,
            5200,
            5200,
            "0.1",
            Some("2024-12-27"),
        ),
        (
            "2024-12",
            "2024-12-01",
            "2024-12-31",
            "base_fee",
            1,
            5200,
            5200,
            "0.1",
            Some("2025-01-27"),
        ),
        (
            "2025-01",
            "2025-01-01",
            "2025-01-31",
            "base_fee",
            1,
            5200,
            5200,
            "0.1",
            Some("2025-02-27"),
        ),
        (
            "2025-02",
            "2025-02-01",
            "2025-02-28",
            "base_fee",
            1,
            5200,
            5200,
            "0.1",
            Some("2025-03-27"),
        ),
    ];
    let events = vec![Event {
        kind: "service_activated".into(),
        date: date("2025-01-15"),
        detail: None,
        quantity: None,
    }];
    let refund = affected(&incident, &input("2024-11-10", &rows, &[], events));
    let summary: Vec<(i64, i64)> = refund
        .invoices
        .iter()
        .map(|invoice| (invoice.principal.minor(), invoice.tax.minor()))
        .collect();
    assert_eq!(
        summary,
        vec![(3640, 364), (5200, 520), (2349, 235)],
        "February is after activation"
    );
    assert_eq!(
        (
            refund.invoices[1].interest.days,
            refund.invoices[1].interest.amount.minor()
        ),
        (93, 43)
    );
}

#[test]
fn cooling_off_caps_with_tax_per_invoice() {
    // Opened 2024-04-10, cancelled 2024-04-17: monthly 5,720 for 04-10..04-30 (21 days), billable
    // 04-10..04-16 = 7 days → 5,720 × 7 / 21 = 1,906.67 → 1,906, diff 3,814. Contract fee 3,000
    // capped at 800: diff 2,200. Apartment construction billed 12,000 in April and 12,000 in May,
    // cap 23,000: April keeps 12,000, May 11,000 (diff 1,000).
    // April: D 6,014, B 20,720 → 2,072; S 14,706 → 1,470; T 602. May: D 1,000, T 100. No interest.
    let text = "[incident]\nid = \"c\"\nkind = \"cooling_off_caps\"\n[rule]\nrecurring_items = [\"monthly_fee\"]\n[[rule.caps]]\nitem = \"contract_fee\"\ncap = \"800\"\n[[rule.caps]]\nitem = \"construction_apartment\"\ncap = \"23000\"\n[interest]\npolicy = \"none\"\n";
    let incident = Incident::from_bytes(text.as_bytes(), Path::new("c.toml")).unwrap();
    let rows = [
        (
            "2024-04",
            "2024-04-10",
            "2024-04-30",
            "monthly_fee",
            1,
            5720,
            5720,
            "0.1",
            Some("2024-05-27"),
        ),
        (
            "2024-04",
            "2024-04-10",
            "2024-04-10",
            "contract_fee",
            1,
            3000,
            3000,
            "0.1",
            Some("2024-05-27"),
        ),
        (
            "2024-04",
            "2024-04-10",
            "2024-04-10",
            "construction_apartment",
            1,
            12000,
            12000,
            "0.1",
            Some("2024-05-27"),
        ),
        (
            "2024-05",
            "2024-04-10",
            "2024-04-10",
            "construction_apartment",
            1,
            12000,
            12000,
            "0.1",
            Some("2024-06-27"),
        ),
    ];
    let mut input = input("2024-04-17", &rows, &[], vec![]);
    input.account.opened_on = Some(date("2024-04-10"));
    let refund = affected(&incident, &input);
    let summary: Vec<(i64, i64)> = refund
        .invoices
        .iter()
        .map(|invoice| (invoice.principal.minor(), invoice.tax.minor()))
        .collect();
    assert_eq!(summary, vec![(6014, 602), (1000, 100)]);
    assert_eq!(refund.refund_total.minor(), 7716);
}
