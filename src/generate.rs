//! `redress generate`: deterministic synthetic billing data with planted incidents of every kind,
//! plus one incident file per kind, so the whole pipeline can be run and measured at any scale.
//!
//! Every value derives from (seed, account, month) through SplitMix64, so output is identical for
//! the same arguments whatever the thread count. Charges are written one file per billing month,
//! in parallel, streaming to disk: 1,000,000 accounts × 24 months never sit in memory at once.

use std::fmt::Write as _;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;

use crate::cli::GenerateArgs;
use crate::error::RunError;
use crate::incident::wire::{self, IncidentKind};
use crate::money::Month;
use crate::render::tables::{csv_bytes, parquet_bytes};

crate::render::tables::output_table! {
    /// A generated row of accounts (SPEC §1).
    pub struct AccountRow {
        /// `AC` and eight digits.
        pub account_id: String,
        /// A Japanese or an English name.
        pub holder_name: String,
        /// Of the generated address.
        pub postal_code: String,
        /// A made-up address in the region.
        pub address: String,
        /// `account_id@example.jp`, lower-case.
        pub email: String,
        /// `ja` or `en`.
        pub language: &'static str,
        /// `east` or `west`.
        pub region: &'static str,
        /// One of the generated plans.
        pub plan: &'static str,
        /// `individual` or `corporate`.
        pub customer_type: &'static str,
        /// When the service started.
        pub opened_on: NaiveDate,
        /// `active` or `closed`.
        pub status: &'static str,
        /// When the account was closed; empty when it is open.
        pub closed_on: Option<NaiveDate>,
        /// 4 digits; empty for accounts whose bank details are incomplete.
        pub bank_code: Option<String>,
        /// 3 digits; empty for accounts whose bank details are incomplete.
        pub branch_code: Option<String>,
        /// `ordinary`; empty for accounts whose bank details are incomplete.
        pub bank_account_type: Option<&'static str>,
        /// Malformed (`12-34`) for accounts whose bank details are incomplete.
        pub bank_account_number: String,
        /// The holder in katakana; empty when the details are incomplete.
        pub bank_account_holder_kana: Option<String>,
    }
}

crate::render::tables::output_table! {
    /// A generated row of events (SPEC §1).
    pub struct EventRow {
        /// The account the event happened to.
        pub account_id: String,
        /// `cancel_requested`, `registration`, `equipment_count`, ….
        pub kind: &'static str,
        /// When it happened.
        pub date: NaiveDate,
        /// What it concerns (a service or an item); empty when nothing.
        pub detail: Option<&'static str>,
        /// A count (equipment); empty when none.
        pub quantity: Option<i64>,
    }
}

/// The events of the accounts generated so far.
pub type Events = Vec<EventRow>;

/// SplitMix64: a tiny, well-known generator whose output never changes with crate versions, which
/// keeps generated data byte-identical across releases for the same seed.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(parts: &[u64]) -> SplitMix {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for part in parts {
            state = SplitMix(state ^ part.wrapping_mul(0xBF58_476D_1CE4_E5B9)).next_u64();
        }
        SplitMix(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub out: PathBuf,
    pub accounts: u64,
    pub months: u32,
    pub first_month: Month,
    pub seed: u64,
    pub kinds: Vec<IncidentKind>,
    pub parquet: bool,
    pub force: bool,
}

impl GenerateOptions {
    pub fn from_args(args: &GenerateArgs) -> Result<GenerateOptions, RunError> {
        let kinds = if args.kinds.is_empty() {
            IncidentKind::all().collect()
        } else {
            args.kinds
                .iter()
                .map(|name| {
                    IncidentKind::named(name).ok_or_else(|| {
                        RunError::Usage(format!(
                            "--kinds: `{name}` is not an incident kind\nhint: use any of {}",
                            IncidentKind::all()
                                .map(|kind| kind.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        };
        if args.accounts == 0 || args.months == 0 || args.months > 600 {
            return Err(RunError::Usage(
                "--accounts must be ≥ 1 and --months between 1 and 600".to_string(),
            ));
        }
        // Months end at 2019-12 when they fit, so 24 months cross the 2019-10 tax change.
        let last = Month::new(2019, 12).unwrap_or(Month::from_index(0));
        let first_month = Month::from_index(last.index() - args.months as i32 + 1);
        Ok(GenerateOptions {
            out: args.out.clone(),
            accounts: args.accounts,
            months: args.months,
            first_month,
            seed: args.seed,
            kinds,
            parquet: args.parquet,
            force: args.force,
        })
    }

    fn month(&self, offset: u32) -> Month {
        Month::from_index(self.first_month.index() + offset as i32)
    }

    fn last_month(&self) -> Month {
        self.month(self.months - 1)
    }
}

/// Consumption tax in force for a service month: 5% before 2014-04, 8% to 2019-09, 10% after.
pub fn tax_rate_for(month: Month) -> &'static str {
    let index = month.index();
    if index < Month::new(2014, 4).map_or(0, Month::index) {
        "0.05"
    } else if index < Month::new(2019, 10).map_or(0, Month::index) {
        "0.08"
    } else {
        "0.1"
    }
}

const SURNAMES: [(&str, &str); 12] = [
    ("佐藤", "ｻﾄｳ"),
    ("鈴木", "ｽｽﾞｷ"),
    ("高橋", "ﾀｶﾊｼ"),
    ("田中", "ﾀﾅｶ"),
    ("伊藤", "ｲﾄｳ"),
    ("渡辺", "ﾜﾀﾅﾍﾞ"),
    ("山本", "ﾔﾏﾓﾄ"),
    ("中村", "ﾅｶﾑﾗ"),
    ("小林", "ｺﾊﾞﾔｼ"),
    ("加藤", "ｶﾄｳ"),
    ("吉田", "ﾖｼﾀﾞ"),
    ("山田", "ﾔﾏﾀﾞ"),
];
const GIVEN: [(&str, &str); 8] = [
    ("太郎", "ﾀﾛｳ"),
    ("花子", "ﾊﾅｺ"),
    ("一郎", "ｲﾁﾛｳ"),
    ("美咲", "ﾐｻｷ"),
    ("健", "ｹﾝ"),
    ("陽子", "ﾖｳｺ"),
    ("大輔", "ﾀﾞｲｽｹ"),
    ("結衣", "ﾕｲ"),
];
const EN_NAMES: [&str; 4] = ["Alex Morgan", "Sam Taylor", "Jordan Lee", "Chris Walker"];
const PLACES: [(&str, &str, &str); 6] = [
    ("east", "100-0001", "東京都千代田区千代田1-1"),
    ("east", "980-0811", "宮城県仙台市青葉区一番町4-1"),
    ("east", "060-0001", "北海道札幌市中央区北一条西2"),
    ("west", "530-0001", "大阪府大阪市北区梅田3-1"),
    ("west", "460-0008", "愛知県名古屋市中区栄3-4"),
    ("west", "812-0011", "福岡県福岡市博多区博多駅前2-1"),
];
/// (plan, monthly base fee tax excluded)
const PLANS: [(&str, i64); 4] = [
    ("fiber_home", 5200),
    ("fiber_mansion", 3800),
    ("adsl", 2900),
    ("isdn", 2400),
];

/// How a kind plants its incident in `redress generate` data; each kind's file implements it.
pub trait Recipe: Sync {
    /// Accounts per thousand that get the incident.
    fn per_mille(&self) -> u64;

    /// The trigger date planted in an account, or `None` when the account cannot have it.
    fn plant(&self, random: &mut SplitMix, span: &Span) -> Option<NaiveDate>;

    /// What the incident implies for the account's other features.
    fn effects(&self) -> Effects {
        Effects::default()
    }

    /// Writes the account's events for the incident planted on `date`.
    fn events(
        &self,
        account: &Account,
        date: NaiveDate,
        random: &mut SplitMix,
        events: &mut Events,
    );

    /// The incident file's `[trigger]`, `[rule]` and `[interest]` sections.
    fn incident_body(&self) -> &'static str;

    /// The incident's title (Japanese, as a company would announce it).
    fn title(&self) -> &'static str;

    /// The same title in English.
    fn title_en(&self) -> &'static str;
}

/// The days an account exists in the generated months.
pub struct Span {
    pub opened_on: NaiveDate,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Span {
    /// A day from `from` to the last generated day.
    pub fn plant_at(&self, random: &mut SplitMix, from: NaiveDate) -> NaiveDate {
        let room = (self.last_day - from).num_days().max(1) as u64;
        from + Days::new(random.below(room))
    }

    /// A day from the account's opening (or the first generated day) to the last.
    pub fn any_day(&self, random: &mut SplitMix) -> NaiveDate {
        self.plant_at(random, self.opened_on.max(self.first_day))
    }
}

/// A planted incident's consequences for the rest of the account.
#[derive(Debug, Clone, Copy, Default)]
pub struct Effects {
    /// The account was never properly closed (billing went on).
    pub keeps_account_open: bool,
    /// The account closes on the trigger date.
    pub closes_on_trigger: bool,
    /// The account rents at least one wireless LAN card.
    pub rents_wlan_cards: bool,
    /// The account has the kenta toll discount.
    pub registers_kenta: bool,
}

/// One generated account and the incidents planted in it.
pub struct Account {
    pub index: u64,
    pub id: String,
    pub plan: &'static str,
    pub base_fee: i64,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub isp: bool,
    pub wlan_cards: i64,
    pub kenta: bool,
    pub construction_installments: i64,
    pub planted: Vec<(IncidentKind, NaiveDate)>,
}

impl Account {
    /// Adds one event row of the account (`detail` empty for none).
    pub fn event(
        &self,
        events: &mut Events,
        kind: &'static str,
        date: NaiveDate,
        detail: &'static str,
        quantity: Option<i64>,
    ) {
        events.push(EventRow {
            account_id: self.id.clone(),
            kind,
            date,
            detail: Some(detail).filter(|detail| !detail.is_empty()),
            quantity,
        });
    }

    fn has(&self, effect: impl Fn(Effects) -> bool) -> bool {
        self.planted
            .iter()
            .any(|(kind, _)| effect(kind.spec().recipe().effects()))
    }
}

/// Account `index`; a kind in `forced` is planted whenever the account can have it (so that a
/// small data set still has a case of every kind it lists).
fn account(options: &GenerateOptions, index: u64, forced: Option<IncidentKind>) -> Account {
    let mut random = SplitMix::new(&[options.seed, index, 1]);
    let first_day = options.first_month.first_day();
    let last_day = options.last_month().last_day();
    let span_days = (last_day - first_day).num_days().max(1) as u64;
    // A third of the accounts open during the generated months, the rest before.
    let opened_on = if random.chance(330) {
        first_day + Days::new(random.below(span_days))
    } else {
        first_day - Days::new(1 + random.below(2000))
    };
    let (plan, base_fee) = *random.pick(&PLANS);
    let mut planted = Vec::new();
    let span = Span {
        opened_on,
        first_day,
        last_day,
    };
    let mut closed_on = None;
    for kind in &options.kinds {
        let recipe = kind.spec().recipe();
        let force = forced.is_some_and(|forced| forced.as_str() == kind.as_str());
        if !random.chance(recipe.per_mille()) && !force {
            continue;
        }
        let Some(date) = recipe.plant(&mut random, &span) else {
            continue;
        };
        planted.push((*kind, date));
    }
    let effects = |effect: fn(Effects) -> bool| {
        planted
            .iter()
            .filter(move |(kind, _)| effect(kind.spec().recipe().effects()))
            .map(|(_, date): &(IncidentKind, NaiveDate)| *date)
    };
    if effects(|effects| effects.keeps_account_open)
        .next()
        .is_none()
        && random.chance(120)
    {
        // Properly closed accounts: billing stops at the closing month.
        closed_on = Some(span.any_day(&mut random));
    }
    if let Some(date) = effects(|effects| effects.closes_on_trigger).next() {
        closed_on = Some(date);
    }
    let isp = random.chance(600);
    let wlan_cards = if effects(|effects| effects.rents_wlan_cards).next().is_some() {
        1 + random.below(2) as i64
    } else if random.chance(250) {
        1
    } else {
        0
    };
    let kenta = effects(|effects| effects.registers_kenta).next().is_some() || random.chance(300);
    let construction_installments = if opened_on >= first_day {
        1 + random.below(3) as i64
    } else {
        0
    };
    Account {
        index,
        id: format!("AC{index:08}"),
        plan,
        base_fee,
        opened_on,
        closed_on,
        isp,
        wlan_cards,
        kenta,
        construction_installments,
        planted,
    }
}

/// Column buffers of one month's charges.
#[derive(Default)]
struct ChargeColumns {
    account_id: Vec<String>,
    billing_month: Vec<String>,
    period_start: Vec<String>,
    period_end: Vec<String>,
    item: Vec<&'static str>,
    quantity: Vec<i64>,
    unit_price: Vec<i64>,
    list_amount: Vec<Option<i64>>,
    discount_rate: Vec<Option<&'static str>>,
    amount: Vec<i64>,
    tax_rate: Vec<&'static str>,
    paid_on: Vec<Option<String>>,
}

/// One charge line of an account's month, before it joins the column buffers.
struct Line {
    start: NaiveDate,
    end: NaiveDate,
    item: &'static str,
    quantity: i64,
    unit_price: i64,
    /// The list amount and discount rate of a discounted line.
    discount: Option<(i64, &'static str)>,
    amount: i64,
}

impl Line {
    /// An undiscounted line over `start..=end`.
    fn plain(
        (start, end): (NaiveDate, NaiveDate),
        item: &'static str,
        quantity: i64,
        unit_price: i64,
        amount: i64,
    ) -> Line {
        Line {
            start,
            end,
            item,
            quantity,
            unit_price,
            discount: None,
            amount,
        }
    }
}

impl ChargeColumns {
    fn push(&mut self, account: &Account, month: Month, line: Line, paid_on: &Option<String>) {
        self.account_id.push(account.id.clone());
        self.billing_month.push(month.to_string());
        self.period_start.push(line.start.to_string());
        self.period_end.push(line.end.to_string());
        self.item.push(line.item);
        self.quantity.push(line.quantity);
        self.unit_price.push(line.unit_price);
        self.list_amount.push(line.discount.map(|(list, _)| list));
        self.discount_rate.push(line.discount.map(|(_, rate)| rate));
        self.amount.push(line.amount);
        self.tax_rate.push(tax_rate_for(month));
        self.paid_on.push(paid_on.clone());
    }
}

fn month_charges(options: &GenerateOptions, accounts: &[Account], offset: u32) -> ChargeColumns {
    let month = options.month(offset);
    let first = month.first_day();
    let last = month.last_day();
    let mut columns = ChargeColumns::default();
    for account in accounts {
        if account.opened_on > last {
            continue;
        }
        let end = match account.closed_on {
            Some(closed) if closed < first => continue,
            Some(closed) if closed <= last => closed,
            _ => last,
        };
        // Billed-before-activation accounts are billed from opening like everyone else: that is the bug.
        let start = account.opened_on.max(first);
        let mut random = SplitMix::new(&[options.seed, account.index, 2, offset as u64]);
        let paid_on = if random.chance(30) {
            None
        } else {
            Some((last + Days::new(20 + random.below(10))).to_string())
        };
        for line in account_lines(account, month, (start, end), &mut random) {
            columns.push(account, month, line, &paid_on);
        }
    }
    columns
}

/// What `account` is billed for `month`, its service running `start..=end` within the month.
/// `random` has drawn the month's payment already; the draws here follow it in a fixed order.
fn account_lines(
    account: &Account,
    month: Month,
    (start, end): (NaiveDate, NaiveDate),
    random: &mut SplitMix,
) -> Vec<Line> {
    let first = month.first_day();
    let last = month.last_day();
    let days_in_month = (last - first).num_days() + 1;
    let days = (end - start).num_days() + 1;
    let prorated = |fee: i64| {
        if days == days_in_month {
            fee
        } else {
            fee * days / days_in_month
        }
    };
    let mut lines = vec![Line::plain(
        (start, end),
        "base_fee",
        1,
        account.base_fee,
        prorated(account.base_fee),
    )];
    if account.isp {
        lines.push(Line::plain(
            (start, end),
            "isp_fee",
            1,
            1000,
            prorated(1000),
        ));
    }
    if account.wlan_cards > 0 {
        let cards = account.wlan_cards;
        lines.push(Line::plain(
            (first.max(start), last),
            "wlan_card",
            cards,
            300,
            cards * 300,
        ));
    }
    if account.kenta {
        let list = 500 + random.below(4000) as i64;
        let discount = list * 30 / 100;
        lines.push(Line {
            discount: Some((list, "0.3")),
            ..Line::plain((first, last), "kenta_toll", 1, list, list - discount)
        });
        lines.push(Line::plain((first, last), "plan_fee", 1, 200, 200));
    }
    let installment = month.index() - Month::of_date(account.opened_on).index();
    if account.construction_installments > 0
        && (installment as i64) < account.construction_installments
        && installment >= 0
    {
        // 27,000 in installments, billed over 1-3 months (above the cooling-off cap of 25,000).
        let per = 27_000 / account.construction_installments;
        let opened = (account.opened_on, account.opened_on);
        lines.push(Line::plain(opened, "construction", 1, per, per));
        if installment == 0 {
            lines.push(Line::plain(opened, "contract_fee", 1, 3000, 3000));
        }
    }
    // Occasional negative adjustment lines.
    if random.chance(15) {
        lines.push(Line::plain((first, last), "adjustment", 1, -100, -100));
    }
    lines
}

/// A month of charges as CSV, the columns of SPEC §1 (`load::CHARGE_COLUMNS`) in order.
fn write_charges_csv(path: &Path, columns: &ChargeColumns) -> csv::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(file);
    writer.write_record(crate::load::CHARGE_COLUMNS.iter().map(|spec| spec.name))?;
    let mut numbers = [String::new(), String::new(), String::new(), String::new()];
    for index in 0..columns.account_id.len() {
        let [quantity, unit_price, list_amount, amount] = &mut numbers;
        for (text, value) in [
            (quantity, Some(columns.quantity[index])),
            (unit_price, Some(columns.unit_price[index])),
            (list_amount, columns.list_amount[index]),
            (amount, Some(columns.amount[index])),
        ] {
            text.clear();
            if let Some(value) = value {
                let _ = write!(text, "{value}");
            }
        }
        writer.write_record([
            columns.account_id[index].as_str(),
            columns.billing_month[index].as_str(),
            columns.period_start[index].as_str(),
            columns.period_end[index].as_str(),
            columns.item[index],
            numbers[0].as_str(),
            numbers[1].as_str(),
            numbers[2].as_str(),
            columns.discount_rate[index].unwrap_or(""),
            numbers[3].as_str(),
            columns.tax_rate[index],
            columns.paid_on[index].as_deref().unwrap_or(""),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Days since 1970-01-01 of an ISO date the generator wrote (`YYYY-MM-DD`, or `YYYY-MM` for the
/// month's first day).
fn epoch_days(text: &str) -> PolarsResult<i32> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"))
        .map_err(|error| polars_err!(ComputeError: "generated date `{text}`: {error}"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    i32::try_from((date - epoch).num_days())
        .map_err(|_| polars_err!(ComputeError: "generated date `{text}` out of range"))
}

/// A DATE column from ISO texts (`None` stays null).
fn date_column<'a>(
    name: &str,
    texts: impl Iterator<Item = Option<&'a str>>,
) -> PolarsResult<Column> {
    let days = texts
        .map(|text| {
            text.filter(|text| !text.is_empty())
                .map(epoch_days)
                .transpose()
        })
        .collect::<PolarsResult<Vec<Option<i32>>>>()?;
    Column::new(name.into(), days).cast(&DataType::Date)
}

/// Money as DECIMAL(18, 0): the generator's amounts are whole yen.
fn money_column(name: &str, minor: impl Iterator<Item = Option<i64>>) -> PolarsResult<Column> {
    Ok(
        Int128Chunked::from_iter_options(name.into(), minor.map(|value| value.map(i128::from)))
            .into_decimal(18, 0)?
            .into_column(),
    )
}

/// Rates as DECIMAL(6, 4) from the generator's texts (`0.1`, `0.05`).
fn rate_column<'a>(
    name: &str,
    texts: impl Iterator<Item = Option<&'a str>>,
) -> PolarsResult<Column> {
    const SCALE: u32 = 4;
    let scaled = texts
        .map(|text| {
            text.map(|text| {
                let rate: rust_decimal::Decimal = text.parse().map_err(
                    |error| polars_err!(ComputeError: "generated rate `{text}`: {error}"),
                )?;
                let rate = rate.round_dp(SCALE);
                Ok(rate.mantissa() * 10i128.pow(SCALE - rate.scale()))
            })
            .transpose()
        })
        .collect::<PolarsResult<Vec<Option<i128>>>>()?;
    Ok(
        Int128Chunked::from_iter_options(name.into(), scaled.into_iter())
            .into_decimal(6, SCALE as usize)?
            .into_column(),
    )
}

/// One month's charges as typed Parquet, as a warehouse holds them: DATE billing month (its
/// first day) and periods, DECIMAL money and rates, BIGINT quantities.
fn write_charges_parquet(path: &Path, columns: ChargeColumns) -> PolarsResult<()> {
    let mut frame = DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), columns.account_id),
        date_column(
            "billing_month",
            columns.billing_month.iter().map(|text| Some(text.as_str())),
        )?,
        date_column(
            "period_start",
            columns.period_start.iter().map(|text| Some(text.as_str())),
        )?,
        date_column(
            "period_end",
            columns.period_end.iter().map(|text| Some(text.as_str())),
        )?,
        Column::new("item".into(), columns.item),
        Column::new("quantity".into(), columns.quantity),
        money_column("unit_price", columns.unit_price.into_iter().map(Some))?,
        money_column("list_amount", columns.list_amount.into_iter())?,
        rate_column("discount_rate", columns.discount_rate.into_iter())?,
        money_column("amount", columns.amount.into_iter().map(Some))?,
        rate_column("tax_rate", columns.tax_rate.into_iter().map(Some))?,
        date_column("paid_on", columns.paid_on.iter().map(Option::as_deref))?,
    ])?;
    let file = std::fs::File::create(path)?;
    ParquetWriter::new(file).finish(&mut frame)?;
    Ok(())
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |error| {
        RunError::Output(crate::output::OutputError::Io {
            path: path.to_path_buf(),
            source: error,
        })
    }
}

/// Writes the data set and the incident files; returns a summary for the terminal.
pub fn generate(options: &GenerateOptions) -> Result<String, RunError> {
    let out = &options.out;
    if out.exists() {
        if !options.force {
            return Err(RunError::Output(crate::output::OutputError::Exists(
                out.clone(),
            )));
        }
        std::fs::remove_dir_all(out).map_err(io_error(out))?;
    }
    std::fs::create_dir_all(out.join("charges")).map_err(io_error(out))?;
    std::fs::create_dir_all(out.join("incidents")).map_err(io_error(out))?;

    let mut accounts: Vec<Account> = (0..options.accounts)
        .into_par_iter()
        .map(|index| account(options, index, None))
        .collect();
    let kinds = plant_every_kind(options, &mut accounts);

    let mut rows = Vec::with_capacity(accounts.len());
    let mut events = Events::new();
    for account in &accounts {
        rows.push(write_account(options, account, &mut events));
    }
    write_table(options, "accounts", AccountRow::COLUMNS, &rows, |digits| {
        AccountRow::parquet_columns(&rows, digits)
    })?;
    write_table(options, "events", EventRow::COLUMNS, &events, |digits| {
        EventRow::parquet_columns(&events, digits)
    })?;

    let charge_rows = write_charges(options, &accounts)?;

    for kind in &kinds {
        let path = out
            .join("incidents")
            .join(format!("{}.toml", kind.as_str()));
        std::fs::write(&path, incident_file(*kind, options)?).map_err(io_error(&path))?;
    }
    let unplanted: Vec<&str> = options
        .kinds
        .iter()
        .filter(|kind| {
            !kinds
                .iter()
                .any(|planted| planted.as_str() == kind.as_str())
        })
        .map(|kind| kind.as_str())
        .collect();
    let unplanted = if unplanted.is_empty() {
        String::new()
    } else {
        format!(
            "\nnot planted (no generated account can have it; give more --accounts or --months): {}",
            unplanted.join(", ")
        )
    };
    Ok(format!(
        "generated {} accounts, {} charge rows over {} months ({}..{}), incidents: {}{unplanted}\nrun one with: redress run --incident {}/incidents/{}.toml --data {} --out OUT",
        options.accounts,
        charge_rows,
        options.months,
        options.first_month,
        options.last_month(),
        kinds
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        out.display(),
        kinds
            .first()
            .map(|kind| kind.as_str())
            .unwrap_or("missed_cancellation"),
        out.display()
    ))
}

/// Makes sure every kind asked for has a planted case: a kind the random draw missed (a small data
/// set) is planted in the first account that can have it, deterministically. Returns the kinds
/// planted, in the order asked; a kind no account can have is left out (and not listed).
fn plant_every_kind(options: &GenerateOptions, accounts: &mut [Account]) -> Vec<IncidentKind> {
    let mut planted_kinds = Vec::new();
    for kind in &options.kinds {
        let has = |account: &Account| {
            account
                .planted
                .iter()
                .any(|(planted, _)| planted.as_str() == kind.as_str())
        };
        if accounts.iter().any(has) {
            planted_kinds.push(*kind);
            continue;
        }
        let found = accounts.iter().position(|account| {
            // Only accounts without other incidents, so no planted case is disturbed.
            account.planted.is_empty() && has(&self::account(options, account.index, Some(*kind)))
        });
        if let Some(position) = found {
            let index = accounts[position].index;
            accounts[position] = account(options, index, Some(*kind));
            planted_kinds.push(*kind);
        }
    }
    planted_kinds
}

/// `NAME.csv`, or with `--parquet` `NAME.parquet` typed by the row type.
fn write_table<R: serde::Serialize>(
    options: &GenerateOptions,
    name: &'static str,
    columns: &[&str],
    rows: &[R],
    parquet: impl FnOnce(u32) -> PolarsResult<Vec<Column>>,
) -> Result<(), RunError> {
    let (path, bytes) = if options.parquet {
        let path = options.out.join(format!("{name}.parquet"));
        (path, parquet_bytes(name, parquet(0))?)
    } else {
        let path = options.out.join(format!("{name}.csv"));
        (path, csv_bytes(name, columns, rows)?)
    };
    std::fs::write(&path, bytes).map_err(io_error(&path))
}

/// One account's row of accounts.csv and its event rows (planted incidents, ordinary history).
fn write_account(options: &GenerateOptions, account: &Account, events: &mut Events) -> AccountRow {
    let mut random = SplitMix::new(&[options.seed, account.index, 3]);
    let english = random.chance(80);
    let (surname, surname_kana) = *random.pick(&SURNAMES);
    let (given, given_kana) = *random.pick(&GIVEN);
    let holder = if english {
        random.pick(&EN_NAMES).to_string()
    } else {
        format!("{surname} {given}")
    };
    let (region, postal, address) = *random.pick(&PLACES);
    let complete_bank = random.chance(800);
    let corporate = random.chance(80);
    let number = format!("{:07}", random.below(10_000_000));
    // Drawn in this order (bank, then branch) so that a seed keeps giving the same data.
    let bank_code = complete_bank.then(|| format!("{:04}", 1 + random.below(9000)));
    let branch_code = complete_bank.then(|| format!("{:03}", random.below(1000)));
    let row = AccountRow {
        account_id: account.id.clone(),
        holder_name: holder,
        postal_code: postal.to_string(),
        address: address.to_string(),
        email: format!("{}@example.jp", account.id.to_lowercase()),
        language: if english { "en" } else { "ja" },
        region,
        plan: account.plan,
        customer_type: if corporate { "corporate" } else { "individual" },
        opened_on: account.opened_on,
        status: if account.closed_on.is_some() {
            "closed"
        } else {
            "active"
        },
        closed_on: account.closed_on,
        bank_code,
        branch_code,
        bank_account_type: complete_bank.then_some("ordinary"),
        bank_account_number: if complete_bank {
            number
        } else {
            "12-34".to_string()
        },
        bank_account_holder_kana: complete_bank.then(|| format!("{surname_kana} {given_kana}")),
    };
    for (kind, date) in &account.planted {
        kind.spec()
            .recipe()
            .events(account, *date, &mut random, events);
    }
    // Ordinary history: every account's equipment count when it opened.
    if account.wlan_cards > 0
        && !account.has(|effects| effects.rents_wlan_cards)
        && random.chance(300)
    {
        account.event(
            events,
            "equipment_count",
            account.opened_on,
            "wlan_card",
            Some(account.wlan_cards),
        );
    }
    row
}

/// One charges file per billing month, in parallel; the number of rows written.
fn write_charges(options: &GenerateOptions, accounts: &[Account]) -> Result<usize, RunError> {
    let out = &options.out;
    let rows: Vec<usize> = (0..options.months)
        .into_par_iter()
        .map(|offset| {
            let columns = month_charges(options, accounts, offset);
            let count = columns.account_id.len();
            let month = options.month(offset);
            if options.parquet {
                let path = out.join("charges").join(format!("{month}.parquet"));
                write_charges_parquet(&path, columns).map_err(|error| {
                    RunError::internal(format!("writing {}", path.display()), error)
                })?;
            } else {
                let path = out.join("charges").join(format!("{month}.csv"));
                write_charges_csv(&path, &columns).map_err(|error| match error.into_kind() {
                    csv::ErrorKind::Io(error) => io_error(&path)(error),
                    other => RunError::bug(format!("writing {}: {other:?}", path.display())),
                })?;
            }
            Ok(count)
        })
        .collect::<Result<_, RunError>>()?;
    Ok(rows.iter().sum())
}

/// The sections a kind's recipe gives (`Recipe::incident_body`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeSections {
    #[serde(default)]
    trigger: wire::TriggerSection,
    rule: wire::RuleSection,
    interest: wire::InterestSection,
}

/// The incident file of a planted kind, built as the wire structs and written by `toml`.
fn incident_file(kind: IncidentKind, options: &GenerateOptions) -> Result<String, RunError> {
    let refund_date = options.last_month().last_day() + Days::new(90);
    // The first bank business day of that month: the Zengin file is dated on it.
    let first_of_month =
        NaiveDate::from_ymd_opt(refund_date.year(), refund_date.month(), 1).unwrap_or(refund_date);
    let refund_date = crate::calendar::next_business_day(first_of_month).unwrap_or(first_of_month);
    let recipe = kind.spec().recipe();
    let sections: RecipeSections = toml::from_str(recipe.incident_body()).map_err(|error| {
        RunError::internal(format!("the {} recipe's sections", kind.as_str()), error)
    })?;
    let date = |date: NaiveDate| {
        date.to_string()
            .parse()
            .map(wire::WireDate)
            .map_err(|error| RunError::internal(format!("the date {date}"), error))
    };
    let file = GeneratedFile {
        incident: wire::IncidentSection {
            id: format!(
                "synthetic-{}-{}",
                kind.as_str().replace('_', "-"),
                options.seed
            ),
            kind,
            title: Some(recipe.title().to_string()),
            company: Some("サンプル通信株式会社".to_string()),
            language: None,
            date_style: None,
            announced_on: Some(date(refund_date - Days::new(30))?),
            refund_date: Some(date(refund_date)?),
            currency: Some("JPY".to_string()),
            text: incident_texts(recipe.title(), recipe.title_en()),
            // Made up, with a valid check digit, for months from 2023-10.
            registration_number: Some("T8000000000001".to_string()),
            qualified_invoice_issuer: None,
            return_invoice_notice: None,
        },
        trigger: Some(sections.trigger)
            .filter(|trigger| trigger.event.is_some() || trigger.detail.is_some()),
        rule: sections.rule,
        interest: sections.interest,
        payout: wire::PayoutSection {
            active: Some(wire::ActiveChannel::BillCredit),
            closed: Some(wire::ClosedChannel::BankTransfer),
            minimum_transfer: Some(wire::WireDecimal("100".to_string())),
            zengin: Some(wire::ZenginSection {
                requester_code: "0000012345".to_string(),
                requester_name: "ｻﾝﾌﾟﾙﾂｳｼﾝ(ｶ".to_string(),
                bank_code: "0001".to_string(),
                bank_name: Some("ﾐｽﾞﾎ".to_string()),
                branch_code: "001".to_string(),
                branch_name: Some("ﾄｳｷﾖｳ".to_string()),
                account_type: "ordinary".to_string(),
                account_number: "1234567".to_string(),
            }),
            ..wire::PayoutSection::default()
        },
        display: GeneratedDisplay { region: regions() },
    };
    let text = toml::to_string(&file)
        .map_err(|error| RunError::internal("writing a generated incident file", error))?;
    Ok(format!(
        "# Generated by `redress generate --seed {}`: a planted {} incident.\n{text}",
        options.seed,
        kind.as_str()
    ))
}

/// The sections of an incident file `generate` writes, as `wire::IncidentFile` reads them; the
/// sections it leaves at their defaults (`[scope]`, `[tax]`, display names of plans and
/// channels) are left out rather than written empty.
#[derive(serde::Serialize)]
struct GeneratedFile {
    incident: wire::IncidentSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<wire::TriggerSection>,
    rule: wire::RuleSection,
    interest: wire::InterestSection,
    payout: wire::PayoutSection,
    display: GeneratedDisplay,
}

/// `[display]` with the region names only.
#[derive(serde::Serialize)]
struct GeneratedDisplay {
    region: std::collections::BTreeMap<String, wire::DisplayName>,
}

/// What the generated accounts' region codes are called in documents.
fn regions() -> std::collections::BTreeMap<String, wire::DisplayName> {
    let name = |ja: &str, en: &str| wire::DisplayName {
        ja: Some(ja.to_string()),
        en: Some(en.to_string()),
    };
    [
        ("east".to_string(), name("東日本", "Eastern Japan")),
        ("west".to_string(), name("西日本", "Western Japan")),
    ]
    .into()
}

/// Complete texts in both languages, so that every generated account's notice and both press
/// releases can be written.
fn incident_texts(title: &str, title_en: &str) -> wire::IncidentTextSection {
    let text = |value: &str| Some(value.to_string());
    wire::IncidentTextSection {
        ja: Some(wire::IncidentText {
            summary: Some(format!(
                "一部のお客さまについて、{title}が発生していたことが判明いたしました。"
            )),
            cause: text("料金システムの設定の誤りによるものです。"),
            response: text(
                "該当するお客さまに、過大にご請求した額に消費税相当額と利息を加えてご返金いたします。",
            ),
            prevention: text("設定の変更時に、請求結果を照合する手順を設けました。"),
            contact: text("サンプル通信 お客さまセンター 0120-000-000（受付時間 9:00〜17:00）"),
            ..wire::IncidentText::default()
        }),
        en: Some(wire::IncidentText {
            title: text(title_en),
            company: text("Sample Telecom Co., Ltd."),
            summary: Some(format!(
                "We found that some customers were affected: {}.",
                title_en.to_lowercase()
            )),
            cause: text("A setting in our billing system was wrong."),
            response: text(
                "We refund what we over-billed, with the consumption tax on it and interest.",
            ),
            prevention: text("We now check billing results whenever a setting changes."),
            contact: text("Sample Telecom customer centre 0120-000-000 (9:00-17:00)"),
            ..wire::IncidentText::default()
        }),
    }
}
