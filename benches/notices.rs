//! Notice rendering throughput: renders N synthetic affected accounts (default 1,000,000) through
//! the real templates, Markdown + HTML per account, streaming to a temporary directory, and prints
//! notices per second. Run: `cargo bench --bench notices -- 1000000`.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::Path;
use std::time::Instant;

use redress::incident::Incident;
use redress::interest::Interest;
use redress::ledger::PayoutPlan;
use redress::model::{Account, BankDetails, Language, Status};
use redress::money::Month;
use redress::output::Staging;
use redress::refund::{AccountClass, AccountRefund, Invoice, InvoiceClass, PayoutChannel};
use redress::render::notices;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let incident =
        Incident::load(&root.join("samples/incidents/demo.toml")).expect("sample incident");
    let refund_date = incident.refund_date;
    let plan = PayoutPlan {
        bill_credit_month: Month::parse("2009-06"),
        ..PayoutPlan::default()
    };
    let accounts: Vec<Account> = (0..count)
        .map(|index| Account {
            account_id: format!("AC{index:08}"),
            holder_name: "山田 太郎".into(),
            postal_code: Some("160-0023".into()),
            address: Some("東京都新宿区西新宿1-1-1".into()),
            email: None,
            language: if index % 10 == 0 {
                Language::En
            } else {
                Language::Ja
            },
            region: Some("east".into()),
            plan: None,
            customer_type: None,
            opened_on: None,
            status: Status::Active,
            closed_on: None,
            bank: BankDetails::default(),
            trigger_date: chrono::NaiveDate::from_ymd_opt(2008, 1, 1).unwrap(),
        })
        .collect();
    let yen = |minor: i64| incident.currency.money(minor);
    let refunds: Vec<AccountRefund> = accounts
        .iter()
        .map(|account| {
            let invoices: Vec<Invoice> = (0..6)
                .map(|month| Invoice {
                    billing_month: Month::parse("2008-10")
                        .map(|m| Month::from_index(m.index() + month))
                        .unwrap(),
                    class: InvoiceClass::Overbilled,
                    principal: yen(3900),
                    tax: yen(195),
                    excess: yen(4095),
                    paid_on: chrono::NaiveDate::from_ymd_opt(2009, 1, 26),
                    interest: Interest {
                        days: 120,
                        rate: Some(rust_decimal::Decimal::new(145, 3)),
                        amount: yen(180),
                        segments: Vec::new(),
                    },
                    groups: Vec::new(),
                })
                .collect();
            AccountRefund {
                account_id: account.account_id.clone(),
                class: AccountClass::Overbilled,
                refund_principal: yen(23_400),
                refund_tax: yen(1_170),
                refund_interest: yen(1_080),
                refund_total: yen(25_650),
                correction_total: yen(0),
                underbilled_total: yen(0),
                overbilled_invoices: 6,
                underbilled_invoices: 0,
                first_billing_month: invoices[0].billing_month,
                last_billing_month: invoices[5].billing_month,
                payout_channel: PayoutChannel::BillCredit,
                claim_reason: None,
                previously_paid: yen(0),
                supplement: yen(25_650),
                refund_id: redress::refund::refund_id(&incident.id, &account.account_id),
                region: account.region.clone(),
                plan: None,
                status: Status::Active,
                invoices,
            }
        })
        .collect();
    let pairs: Vec<(&AccountRefund, &Account)> = refunds.iter().zip(accounts.iter()).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let staging = Staging::new(&dir.path().join("out"), false, &[]).expect("staging directory");
    let env = notices::environment(None).expect("built-in templates");
    let started = Instant::now();
    let index = notices::write_all(
        &staging,
        &env,
        &incident,
        notices::PaymentDays {
            refund_date,
            transfer_date: refund_date,
        },
        &plan,
        &pairs,
        &[],
        &redress::progress::Silent,
    )
    .expect("notices");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rendered {count} notices (Markdown + HTML, {} index bytes) in {seconds:.1} s: {:.0} notices/s on {} threads",
        index.len(),
        count as f64 / seconds,
        rayon::current_num_threads()
    );
}
