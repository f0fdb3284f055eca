//! Qualified return invoices (適格返還請求書): scenario rows worked out by hand, the registration
//! number and the threshold, and what the customer and the billing system receive.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::NaiveDate;
use redress::incident::Incident;
use redress::model::{Account, AccountInput, BankDetails, ChargeRow, Language, Status};
use redress::money::{Money, Month, parse_date, parse_decimal};
use redress::refund::{self, AccountRefund, Outcome};
use redress::return_invoice::{self, ReturnLine};

fn date(text: &str) -> NaiveDate {
    parse_date(text).unwrap()
}

/// A cancellation effective on 2023-08-15: every later base_fee / isp_fee row is refunded whole.
fn incident(issuer: &str, interest: &str) -> Incident {
    let text = format!(
        "[incident]\nid = \"q\"\nkind = \"missed_cancellation\"\nrefund_date = 2024-06-28\n{issuer}\n[rule]\nitems = [\"base_fee\", \"isp_fee\"]\neffective = \"event_date\"\n[interest]\n{interest}\n[payout]\nclosed = \"claim\"\n"
    );
    Incident::from_bytes(text.as_bytes(), Path::new("q.toml")).unwrap()
}

const REGISTERED: &str = "registration_number = \"T7000012050002\"";
const FIXED_3: &str = "policy = \"fixed\"\nrate = \"0.03\"";
const NO_INTEREST: &str = "policy = \"none\"";

/// (billing month, item, amount, tax rate): each paid on the 27th of the month after.
fn account(rows: &[(&str, &str, i64, &str)]) -> AccountInput {
    AccountInput {
        account: Account {
            account_id: "Q1".into(),
            holder_name: "H".into(),
            postal_code: None,
            address: None,
            email: None,
            language: Language::Ja,
            region: None,
            plan: None,
            customer_type: None,
            opened_on: None,
            status: Status::Active,
            closed_on: None,
            bank: BankDetails::default(),
            trigger_date: date("2023-08-15"),
        },
        rows: rows
            .iter()
            .map(|&(month, item, amount, rate)| {
                let month = Month::parse(month).unwrap();
                let paid = Month::from_index(month.index() + 1).first_day() + chrono::Days::new(26);
                ChargeRow {
                    billing_month: month,
                    period_start: month.first_day(),
                    period_end: month.last_day(),
                    item: item.into(),
                    quantity: 1,
                    unit_price: Money::new(amount, 0),
                    list_amount: Money::new(amount, 0),
                    discount_rate: parse_decimal("0").unwrap(),
                    amount: Money::new(amount, 0),
                    tax_rate: parse_decimal(rate).unwrap(),
                    paid_on: Some(paid),
                }
            })
            .collect(),
        events: Vec::new(),
    }
}

fn refund_of(incident: &Incident, input: &AccountInput) -> AccountRefund {
    match refund::compute(incident, incident.refund_date, input).unwrap() {
        Outcome::Affected(refund) => *refund,
        other => panic!("expected an affected account, got {other:?}"),
    }
}

fn lines_of(incident: &Incident, refund: &AccountRefund) -> Vec<ReturnLine> {
    return_invoice::lines(
        std::slice::from_ref(refund),
        &incident.return_invoice,
        incident.currency.code,
        incident.refund_date,
    )
    .unwrap()
}

/// (qualified, rate, principal, tax, total, from, to, required)
type Summary = (bool, String, i64, i64, i64, String, String, bool);

fn summary(lines: &[ReturnLine]) -> Vec<Summary> {
    lines
        .iter()
        .map(|line| {
            (
                line.qualified,
                line.tax_rate.to_string(),
                line.principal.minor(),
                line.tax.minor(),
                line.total.minor(),
                line.sales_from.to_string(),
                line.sales_to.to_string(),
                line.required,
            )
        })
        .collect()
}

#[test]
fn two_rates_in_one_refund_and_interest_excluded() {
    // 2024-02: base_fee 8,000 at 10% (tax 800) and isp_fee 3,000 at 8% (tax 240), both refunded
    // whole. Principal 11,000, tax 1,040, tax-inclusive 12,040 ≥ 10,000: required. Interest at 3%
    // from 2024-03-28 to 2024-06-28 is paid but is not part of the return invoice.
    let incident = incident(REGISTERED, FIXED_3);
    let refund = refund_of(
        &incident,
        &account(&[
            ("2024-02", "base_fee", 8000, "0.1"),
            ("2024-02", "isp_fee", 3000, "0.08"),
        ]),
    );
    assert!(refund.refund_interest.is_positive());
    let lines = lines_of(&incident, &refund);
    assert_eq!(
        summary(&lines),
        vec![
            (
                true,
                "0.08".into(),
                3000,
                240,
                3240,
                "2024-02".into(),
                "2024-02".into(),
                true
            ),
            (
                true,
                "0.1".into(),
                8000,
                800,
                8800,
                "2024-02".into(),
                "2024-02".into(),
                true
            ),
        ]
    );
    let stated: i64 = lines.iter().map(|line| line.total.minor()).sum();
    assert_eq!(
        stated,
        refund.refund_total.minor() - refund.refund_interest.minor()
    );
    assert_eq!(lines[0].refund_date, Some(date("2024-06-28")));
}

#[test]
fn under_10000_yen_tax_included_is_not_required() {
    // 9,090 + tax 909 = 9,999: not required. 9,091 + floor(909.1) = 10,000: required.
    let incident = incident(REGISTERED, NO_INTEREST);
    for (amount, total, required) in [(9090, 9999, false), (9091, 10000, true)] {
        let refund = refund_of(
            &incident,
            &account(&[("2024-02", "base_fee", amount, "0.1")]),
        );
        let lines = lines_of(&incident, &refund);
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].total.minor(), lines[0].required),
            (total, required)
        );
    }
    // Judged per refund, not per rate: 5,000 at 10% (5,500) and 4,700 at 8% (5,076) make 10,576,
    // so both lines are required although each is under 10,000.
    let refund = refund_of(
        &incident,
        &account(&[
            ("2024-02", "base_fee", 5000, "0.1"),
            ("2024-02", "isp_fee", 4700, "0.08"),
        ]),
    );
    let lines = lines_of(&incident, &refund);
    assert_eq!(
        refund.refund_principal.minor() + refund.refund_tax.minor(),
        10576
    );
    assert!(
        lines
            .iter()
            .all(|line| line.required && line.total.minor() < 10000)
    );
}

#[test]
fn a_refund_spanning_the_start_of_the_system() {
    // 6,000 at 10% billed 2023-09 (before the system) and 2023-10 (under it): two lines; only
    // the second is a qualified return invoice (account total 13,200 ≥ 10,000).
    let incident = incident(REGISTERED, NO_INTEREST);
    let refund = refund_of(
        &incident,
        &account(&[
            ("2023-09", "base_fee", 6000, "0.1"),
            ("2023-10", "base_fee", 6000, "0.1"),
        ]),
    );
    assert_eq!(
        summary(&lines_of(&incident, &refund)),
        vec![
            (
                false,
                "0.1".into(),
                6000,
                600,
                6600,
                "2023-09".into(),
                "2023-09".into(),
                false
            ),
            (
                true,
                "0.1".into(),
                6000,
                600,
                6600,
                "2023-10".into(),
                "2023-10".into(),
                true
            ),
        ]
    );
}

#[test]
fn an_unregistered_company_issues_none_and_an_unstated_one_is_asked() {
    let rows = [("2024-02", "base_fee", 20000, "0.1")];
    let unregistered = incident("qualified_invoice_issuer = false", NO_INTEREST);
    let refund = refund_of(&unregistered, &account(&rows));
    let lines = lines_of(&unregistered, &refund);
    assert!(lines.iter().all(|line| !line.required));
    assert!(return_invoice::missing_registration(&unregistered.return_invoice, &lines).is_none());

    let unstated = incident("", NO_INTEREST);
    let lines = lines_of(&unstated, &refund_of(&unstated, &account(&rows)));
    assert!(return_invoice::missing_registration(&unstated.return_invoice, &lines).is_some());
    // Sales before the system need no number.
    let lines = lines_of(
        &unstated,
        &refund_of(
            &unstated,
            &account(&[("2023-09", "base_fee", 20000, "0.1")]),
        ),
    );
    assert!(return_invoice::missing_registration(&unstated.return_invoice, &lines).is_none());
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const NURO: &str = "nuro-billed-before-activation";

/// The NURO sample in a temporary directory, its incident text passed through `edit` and its
/// accounts through `accounts`.
fn nuro_copy(
    dir: &Path,
    edit: impl Fn(&str) -> String,
    accounts: impl Fn(&str) -> String,
) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let source = root().join("samples/data").join(NURO);
    for table in ["charges.csv", "events.csv"] {
        std::fs::copy(source.join(table), data.join(table)).unwrap();
    }
    let text = std::fs::read_to_string(source.join("accounts.csv")).unwrap();
    std::fs::write(data.join("accounts.csv"), accounts(&text)).unwrap();
    let incident = std::fs::read_to_string(
        root()
            .join("samples/incidents")
            .join(format!("{NURO}.toml")),
    )
    .unwrap();
    let path = dir.join("incident.toml");
    std::fs::write(&path, edit(&incident)).unwrap();
    path
}

fn run(incident: &Path, data: &Path, out: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("redress")
        .unwrap()
        .args(["run", "--quiet", "--incident"])
        .arg(incident)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .assert()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn notice_of(out: &Path, account_id: &str) -> String {
    let mut index = csv::Reader::from_path(out.join("notices/index.csv")).unwrap();
    let headers = index.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let (account, file) = (column("account_id"), column("file"));
    let file = index
        .records()
        .map(Result::unwrap)
        .find(|record| &record[account] == account_id)
        .map(|record| record[file].to_string())
        .unwrap()
        .replace(".html", ".md");
    read(&out.join("notices").join(file))
}

#[test]
fn notices_and_bill_credits_carry_the_return_invoice() {
    // NU-0002 reads English and is credited on a bill; NU-0001 (closed) gets a transfer.
    let dir = tempfile::tempdir().unwrap();
    let incident = nuro_copy(
        dir.path(),
        |text| text.replace("active = \"bank_transfer\"", "active = \"bill_credit\""),
        |text| {
            text.lines()
                .map(|line| {
                    if line.starts_with("NU-0002,") {
                        line.replace(",ja,", ",en,")
                    } else {
                        line.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        },
    );
    let out = dir.path().join("out");
    run(&incident, &dir.path().join("data"), &out).success();
    insta::assert_snapshot!("return_invoice_notice_ja", notice_of(&out, "NU-0001"));
    insta::assert_snapshot!("return_invoice_notice_en", notice_of(&out, "NU-0002"));
    insta::assert_snapshot!(
        "return_invoices_csv",
        read(&out.join("return_invoices.csv"))
    );
    insta::assert_snapshot!(
        "return_invoice_bill_credits_csv",
        read(&out.join("payouts/bill_credits.csv"))
    );
}

#[test]
fn a_missing_or_mistyped_registration_number_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let without = nuro_copy(
        dir.path(),
        |text| {
            text.lines()
                .filter(|line| !line.starts_with("registration_number"))
                .collect::<Vec<_>>()
                .join("\n")
        },
        str::to_string,
    );
    run(&without, &data, &dir.path().join("out1"))
        .code(2)
        .stderr(predicates::str::contains(
            "key `incident.registration_number`: is required: account `NU-0001`",
        ))
        .stderr(predicates::str::contains(
            "qualified_invoice_issuer = false",
        ));
    assert!(!dir.path().join("out1").exists());

    let mistyped = nuro_copy(
        dir.path(),
        |text| text.replace("T2010401000001", "T2010401000002"),
        str::to_string,
    );
    run(&mistyped, &data, &dir.path().join("out2"))
        .code(2)
        .stderr(predicates::str::contains(
            "key `incident.registration_number`",
        ))
        .stderr(predicates::str::contains("check digit 2"));

    // A company that is not registered states so, and no return invoice is written or printed.
    let unregistered = nuro_copy(
        dir.path(),
        |text| {
            text.replace(
                "registration_number = \"T2010401000001\"",
                "qualified_invoice_issuer = false",
            )
        },
        str::to_string,
    );
    let out = dir.path().join("out3");
    run(&unregistered, &data, &out).success();
    assert!(
        read(&out.join("return_invoices.csv"))
            .lines()
            .skip(1)
            .all(|line| line.ends_with(",false"))
    );
    assert!(!notice_of(&out, "NU-0001").contains("適格返還請求書"));
}
