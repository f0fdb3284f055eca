//! The one-page report for an incident lead (`summary/report.html`) and the refund histogram
//! (`summary/refund_distribution.svg`), both rendered from templates (`templates/report.LANG.html`,
//! `templates/refund_distribution.svg`, overridable with `--templates`) in the incident's language.
//! The report states what a reader must trust the figures by: the refund date, the control totals
//! as reconciled, the tool's version and the SHA-256 of every input. Geometry is integer; money is
//! formatted from minor units, never parsed back. Never computes a refund.

use chrono::NaiveDate;
use serde::Serialize;

use crate::incident::Incident;
use crate::ledger::ControlTotals;
use crate::model::Language;
use crate::money::{self, Currency, Money, Month};
use crate::render::manifest::Manifest;
use crate::render::notices::{Dates, NoticeError, format_money, language_code, render_template};
use crate::render::summary::{Summary, group};

const WIDTH: i64 = 760;
const HEIGHT: i64 = 420;
const LEFT: i64 = 90;
const RIGHT: i64 = 30;
const TOP: i64 = 50;
const BOTTOM: i64 = 80;

/// One bar of the histogram, with its hover text.
#[derive(Debug, Default, Serialize)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    /// `5,000円〜9,999円: 12件` / `¥5,000 to ¥9,999: 12 accounts`.
    pub label: String,
}

/// A tick on an axis: where, and what it reads.
#[derive(Debug, Default, Serialize)]
pub struct Tick {
    pub at: i64,
    pub label: String,
}

/// Everything `refund_distribution.svg` draws, in pixels.
#[derive(Debug, Default, Serialize)]
pub struct Histogram {
    pub language: &'static str,
    pub width: i64,
    pub height: i64,
    pub left: i64,
    pub top: i64,
    pub plot_width: i64,
    pub plot_height: i64,
    /// The x axis' line: its y coordinate.
    pub base: i64,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// No account is refunded: the template says so instead of drawing bars.
    pub empty: bool,
    pub empty_text: String,
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

/// The histogram of the refund per account (`refunds`, sorted or not), about 20 bins of a
/// "nice" width, labelled in `language`. Bin edges are positions on the axis in minor units.
pub fn histogram(refunds: &[Money], currency: Currency, language: Language) -> Histogram {
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let refunds_minor: Vec<i64> = refunds.iter().map(|refund| refund.minor()).collect();
    let money = |minor: i64| format_money(currency, minor, language);
    let mut histogram = Histogram {
        language: language_code(language),
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        top: TOP,
        plot_width,
        plot_height,
        base: TOP + plot_height,
        title: match language {
            Language::Ja => "お客さま1件あたりの返還額の分布",
            Language::En => "Refund per account",
        }
        .to_string(),
        y_label: match language {
            Language::Ja => "件数",
            Language::En => "Accounts",
        }
        .to_string(),
        empty_text: match language {
            Language::Ja => "返還の対象となるお客さまはありません",
            Language::En => "No account is refunded",
        }
        .to_string(),
        ..Histogram::default()
    };
    let (Some(&min), Some(&max)) = (refunds_minor.iter().min(), refunds_minor.iter().max()) else {
        histogram.empty = true;
        return histogram;
    };
    let width = bin_width(max - min + 1, 20);
    let start = min - min.rem_euclid(width);
    let bins = ((max - start) / width + 1) as usize;
    let mut counts = vec![0u64; bins];
    for value in &refunds_minor {
        counts[((value - start) / width) as usize] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1) as i64;
    let bar = plot_width / bins as i64;
    histogram.x_label = match language {
        Language::Ja => format!("1件あたりの返還額（{}ごと）", money(width)),
        Language::En => format!("Refund per account, in steps of {}", money(width)),
    };
    histogram.bars = counts
        .iter()
        .enumerate()
        .map(|(index, &count)| {
            let height = count as i64 * plot_height / peak;
            let low = start + index as i64 * width;
            let high = low + width - 1;
            Bar {
                x: LEFT + index as i64 * bar,
                y: TOP + plot_height - height,
                width: (bar - 2).max(1),
                height,
                label: match language {
                    Language::Ja => format!("{}〜{}: {}件", money(low), money(high), group(count)),
                    Language::En => format!(
                        "{} to {}: {} account{}",
                        money(low),
                        money(high),
                        group(count),
                        if count == 1 { "" } else { "s" }
                    ),
                },
            }
        })
        .collect();
    let label_every = (bins / 6).max(1);
    histogram.x_ticks = (0..=bins)
        .step_by(label_every)
        .map(|index| Tick {
            at: LEFT + index as i64 * bar,
            label: money(start + index as i64 * width),
        })
        .collect();
    // Ticks at distinct whole counts, each at its true height.
    let steps = peak.min(4);
    let mut counts: Vec<i64> = (0..=steps).map(|step| peak * step / steps).collect();
    counts.dedup();
    histogram.y_ticks = counts
        .into_iter()
        .map(|count| Tick {
            at: TOP + plot_height - plot_height * count / peak,
            label: group(count as u64),
        })
        .collect();
    histogram
}

/// A labelled figure at the top of the report.
#[derive(Debug, Default, Serialize)]
pub struct Figure {
    pub label: &'static str,
    pub value: String,
}

/// One control total the run checked before writing, with its value.
#[derive(Debug, Default, Serialize)]
pub struct Check {
    pub label: &'static str,
    pub value: String,
}

#[derive(Debug, Default, Serialize)]
pub struct RegionRow {
    pub name: String,
    pub overbilled: String,
    pub underbilled: String,
    pub mixed: String,
    pub refunded: String,
    pub refund_total: String,
    pub average_refund: String,
    pub correction_total: String,
    pub underbilled_total: String,
}

#[derive(Debug, Default, Serialize)]
pub struct MonthRow {
    pub month: String,
    pub invoices_overbilled: String,
    pub invoices_underbilled: String,
    pub principal: String,
    pub tax: String,
    pub interest: String,
    pub corrections: String,
    pub underbilled: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ChannelRow {
    pub name: String,
    pub accounts: String,
    pub amount: String,
}

#[derive(Debug, Default, Serialize)]
pub struct InputRow {
    pub file: String,
    pub rows: String,
    pub sha256: String,
}

#[derive(Debug, Default, Serialize)]
pub struct WaveRow {
    /// `run`, `paid_file`, `credited_corrections` or `this_run`.
    pub source: &'static str,
    pub name: String,
    pub sequence: String,
    pub refund_date: String,
    pub accounts: String,
    pub amount: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ReportWaves {
    pub sequence: String,
    pub rows: Vec<WaveRow>,
    pub paid_to_date: String,
    pub now_owed: String,
    pub overpaid: String,
    pub overpaid_accounts: String,
}

/// Every variable a report template can use.
#[derive(Debug, Default, Serialize)]
pub struct ReportContext {
    pub language: &'static str,
    pub title: String,
    pub company: String,
    pub incident_id: String,
    /// The incident kind as the language names it.
    pub kind: String,
    pub announced_on: String,
    pub refund_date: String,
    /// When it differs from the refund date: the day the bank transfers are executed.
    pub transfer_date: String,
    pub currency: &'static str,
    pub tool_version: &'static str,
    pub incident_sha256: String,
    /// Every control total below was checked, and the ledger re-read, before anything was written.
    pub reconciled: bool,
    pub checks: Vec<Check>,
    pub figures: Vec<Figure>,
    pub waves: Option<ReportWaves>,
    /// The histogram, as `refund_distribution.svg` holds it (already escaped SVG).
    pub svg: String,
    pub regions: Vec<RegionRow>,
    pub months: Vec<MonthRow>,
    pub channels: Vec<ChannelRow>,
    pub inputs: Vec<InputRow>,
    /// A run from a planned stage: its engine and SQL id (`inputs` are then its aggregates).
    pub stage: String,
}

/// The name of an incident kind in `language`.
fn kind_name(kind: &str, language: Language) -> String {
    let (ja, en) = match kind {
        "missed_cancellation" => ("解約手続き漏れ", "Cancellation not processed"),
        "missed_plan_change" => ("割引・料金変更の適用漏れ", "Plan change not applied"),
        "wrong_equipment_count" => ("機器の数の登録誤り", "Equipment counted wrong"),
        "billed_before_activation" => ("開通前の課金", "Billed before activation"),
        "cooling_off_caps" => ("初期契約解除時の上限超過", "Above the cooling-off caps"),
        other => (other, other),
    };
    match language {
        Language::Ja => ja,
        Language::En => en,
    }
    .to_string()
}

/// The control totals the run reconciled, as the report lists them.
fn checks(
    totals: &ControlTotals,
    currency: Currency,
    language: Language,
) -> Result<Vec<Check>, money::Overflow> {
    let money = |value: Money| format_money(currency, value.minor(), language);
    let payouts = [
        totals.bill_credit.amount,
        totals.bank_transfer.amount,
        totals.claim.amount,
        totals.residual.amount,
    ]
    .into_iter();
    let payouts = Money::sum(payouts, currency.digits, "the payout files' total")?;
    let ja = language == Language::Ja;
    let mut checks = vec![
        Check {
            label: if ja {
                "返金額の合計（refunds.csv）"
            } else {
                "Refunds, total (refunds.csv)"
            },
            value: money(totals.refund_total),
        },
        Check {
            label: if ja {
                "返金する請求の合計（過大請求額＋消費税相当額＋利息）"
            } else {
                "Refunded invoices, total (overcharge + tax + interest)"
            },
            value: money(totals.refunded_invoices_total),
        },
    ];
    match &totals.waves {
        None => checks.push(Check {
            label: if ja {
                "支払ファイルの合計（差し引き・振込・お申し出・少額）"
            } else {
                "Payout files, total (credits, transfers, claims, residual)"
            },
            value: money(payouts),
        }),
        Some(waves) => {
            checks.push(Check {
                label: if ja {
                    "これまでのお支払い"
                } else {
                    "Paid by earlier waves"
                },
                value: money(waves.previously_paid),
            });
            checks.push(Check {
                label: if ja {
                    "今回の支払ファイルの合計（追加のご返金）"
                } else {
                    "This wave's payout files (supplements)"
                },
                value: money(waves.supplement),
            });
        }
    }
    checks.push(Check {
        label: if ja {
            "未払いのご請求の減額（bill_corrections.csv）"
        } else {
            "Corrections of unpaid bills (bill_corrections.csv)"
        },
        value: money(totals.bill_corrections.amount),
    });
    Ok(checks)
}

fn figures(
    summary: &Summary,
    totals: &ControlTotals,
    currency: Currency,
    language: Language,
) -> Vec<Figure> {
    let money = |value: Money| format_money(currency, value.minor(), language);
    let labels: [(&str, &str); 9] = [
        ("対象のお客さま", "Accounts affected"),
        ("過大請求", "Over-billed"),
        ("過少請求", "Under-billed"),
        ("過大・過少の両方", "Both"),
        ("個別確認", "For review"),
        ("返還金額の合計", "Refund total"),
        ("うち利息", "Of which interest"),
        ("未払いのご請求の減額", "Corrections"),
        ("過少請求（ご請求しない額）", "Under-billed (waived)"),
    ];
    let values = [
        group(summary.accounts_affected),
        group(summary.accounts_overbilled),
        group(summary.accounts_underbilled),
        group(summary.accounts_mixed),
        group(summary.accounts_review),
        money(totals.refund_total),
        money(totals.refund_interest),
        money(totals.correction_total),
        money(totals.underbilled_total),
    ];
    labels
        .into_iter()
        .zip(values)
        .map(|((ja, en), value)| Figure {
            label: if language == Language::Ja { ja } else { en },
            value,
        })
        .collect()
}

fn waves(summary: &Summary, currency: Currency, dates: Dates) -> Option<ReportWaves> {
    let money = |value: Money| format_money(currency, value.minor(), dates.language);
    summary.waves.as_ref().map(|waves| ReportWaves {
        sequence: waves.sequence.to_string(),
        rows: waves
            .waves
            .iter()
            .map(|row| WaveRow {
                source: row.source,
                name: row.name.clone(),
                sequence: row.sequence.map(|n| n.to_string()).unwrap_or_default(),
                refund_date: row
                    .refund_date
                    .as_deref()
                    .and_then(crate::money::parse_date)
                    .map(|date| dates.date(date))
                    .unwrap_or_default(),
                accounts: group(row.accounts),
                amount: money(row.amount),
            })
            .collect(),
        paid_to_date: money(waves.paid_to_date),
        now_owed: money(waves.now_owed),
        overpaid: money(waves.overpaid),
        overpaid_accounts: group(waves.overpaid_accounts),
    })
}

fn region_rows(summary: &Summary, incident: &Incident, language: Language) -> Vec<RegionRow> {
    let money = |value: Money| format_money(incident.currency, value.minor(), language);
    let texts = &incident.texts;
    summary
        .by_region
        .iter()
        .map(|region| RegionRow {
            name: region.display_name(texts, language),
            overbilled: group(region.accounts_overbilled),
            underbilled: group(region.accounts_underbilled),
            mixed: group(region.accounts_mixed),
            refunded: group(region.accounts_refunded),
            refund_total: money(region.refund_total),
            average_refund: money(region.average_refund),
            correction_total: money(region.correction_total),
            underbilled_total: money(region.underbilled_total),
        })
        .collect()
}

fn month_rows(summary: &Summary, currency: Currency, dates: Dates) -> Vec<MonthRow> {
    let money = |value: Money| format_money(currency, value.minor(), dates.language);
    summary
        .by_billing_month
        .iter()
        .map(|month| MonthRow {
            month: Month::parse(&month.billing_month)
                .map(|m| dates.month(m))
                .unwrap_or_default(),
            invoices_overbilled: group(month.invoices_overbilled),
            invoices_underbilled: group(month.invoices_underbilled),
            principal: money(month.refund_principal),
            tax: money(month.refund_tax),
            interest: money(month.refund_interest),
            corrections: money(month.correction_total),
            underbilled: money(month.underbilled_total),
        })
        .collect()
}

fn channel_rows(summary: &Summary, incident: &Incident, language: Language) -> Vec<ChannelRow> {
    let money = |value: Money| format_money(incident.currency, value.minor(), language);
    let texts = &incident.texts;
    summary
        .by_payout_channel
        .iter()
        .map(|channel| ChannelRow {
            name: texts.channel(channel.channel, language),
            accounts: group(channel.accounts),
            amount: money(channel.amount),
        })
        .collect()
}

/// `refund_distribution.svg` in the incident's language.
pub fn svg(
    env: &minijinja::Environment<'static>,
    incident: &Incident,
    summary: &Summary,
) -> Result<String, NoticeError> {
    let histogram = histogram(&summary.refunds, incident.currency, incident.texts.language);
    render_template(env, "refund_distribution.svg", &histogram)
}

/// `report.html` in the incident's language; `manifest` gives the version and the inputs' hashes.
pub fn report(
    env: &minijinja::Environment<'static>,
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    summary: &Summary,
    totals: &ControlTotals,
    manifest: &Manifest,
    svg: &str,
) -> Result<String, NoticeError> {
    let language = incident.texts.language;
    let dates = Dates::of(incident, language);
    let currency = incident.currency;
    let text = crate::render::notices::text_of(incident, language)?;
    let mut inputs: Vec<InputRow> = manifest
        .inputs
        .iter()
        .map(|input| InputRow {
            file: input.file.clone(),
            rows: group(input.rows),
            sha256: input.sha256.clone(),
        })
        .collect();
    let mut stage = String::new();
    if let Some(entry) = &manifest.stage {
        stage = format!("{} · {}", entry.engine, entry.stage_sql_id);
        inputs.extend(entry.aggregates.iter().map(|file| InputRow {
            file: file.file.clone(),
            rows: group(file.rows),
            sha256: file.sha256.clone(),
        }));
    }
    let context = ReportContext {
        language: language_code(language),
        title: text.title,
        company: text.company,
        incident_id: incident.id.clone(),
        kind: kind_name(incident.kind.as_str(), language),
        announced_on: incident
            .announced_on
            .map(|date| dates.date(date))
            .unwrap_or_default(),
        refund_date: refund_date.map(|date| dates.date(date)).unwrap_or_default(),
        transfer_date: manifest
            .transfer_date
            .as_deref()
            .filter(|date| Some(*date) != manifest.refund_date.as_deref())
            .and_then(crate::money::parse_date)
            .map(|date| dates.date(date))
            .unwrap_or_default(),
        currency: currency.code,
        tool_version: manifest.tool_version,
        incident_sha256: manifest.incident_file_sha256.clone(),
        reconciled: true,
        checks: checks(totals, currency, language).map_err(NoticeError::Overflow)?,
        figures: figures(summary, totals, currency, language),
        waves: waves(summary, currency, dates),
        svg: svg.to_string(),
        regions: region_rows(summary, incident, language),
        months: month_rows(summary, currency, dates),
        channels: channel_rows(summary, incident, language),
        inputs,
        stage,
    };
    render_template(
        env,
        &format!("report.{}.html", language_code(language)),
        &context,
    )
}

/// Renders the report and histogram templates with every section present (see
/// `notices::environment`).
pub fn check_templates(env: &minijinja::Environment<'static>) -> Result<(), NoticeError> {
    let jpy = Currency::from_code("JPY").ok_or(NoticeError::MissingText { language: "ja" })?;
    for language in Language::ALL {
        render_template(
            env,
            "refund_distribution.svg",
            &histogram(
                &[jpy.money(1), jpy.money(5000), jpy.money(12000)],
                jpy,
                language,
            ),
        )?;
        render_template(
            env,
            "refund_distribution.svg",
            &histogram(&[], jpy, language),
        )?;
        let context = ReportContext {
            reconciled: true,
            checks: vec![Check::default()],
            figures: vec![Figure::default()],
            waves: Some(ReportWaves {
                rows: ["run", "paid_file", "credited_corrections", "this_run"]
                    .into_iter()
                    .map(|source| WaveRow {
                        source,
                        ..WaveRow::default()
                    })
                    .collect(),
                ..ReportWaves::default()
            }),
            regions: vec![RegionRow::default()],
            months: vec![MonthRow::default()],
            channels: vec![ChannelRow::default()],
            inputs: vec![InputRow::default()],
            stage: "duckdb".to_string(),
            transfer_date: "t".to_string(),
            ..ReportContext::default()
        };
        render_template(
            env,
            &format!("report.{}.html", language_code(language)),
            &context,
        )?;
    }
    Ok(())
}

/// A "nice" bin width (1, 2 or 5 × 10^k minor units) giving at most `bins` bins over `span`.
pub(crate) fn bin_width(span: i64, bins: i64) -> i64 {
    let target = (span / bins).max(1);
    let mut power = 1i64;
    loop {
        for step in [1, 2, 5] {
            let width = step * power;
            if width >= target {
                return width;
            }
        }
        power = power.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_bins() {
        assert_eq!(bin_width(100_000, 20), 5000);
        assert_eq!(bin_width(90, 20), 5);
        assert_eq!(bin_width(1, 20), 1);
    }

    #[test]
    fn the_histogram_reads_in_its_language_with_separators() {
        let jpy = Currency::from_code("JPY").unwrap();
        let refunds = [4244, 25_625, 97_495, 51_000, 60_000].map(|minor| jpy.money(minor));
        let ja = histogram(&refunds, jpy, Language::Ja);
        assert_eq!(ja.x_label, "1件あたりの返還額（5,000円ごと）");
        assert_eq!(ja.y_label, "件数");
        assert!(ja.x_ticks.iter().any(|tick| tick.label == "45,000円"));
        assert_eq!(ja.bars[0].label, "0円〜4,999円: 1件");
        let en = histogram(&refunds, jpy, Language::En);
        assert_eq!(en.x_label, "Refund per account, in steps of ¥5,000");
        assert_eq!(en.bars[0].label, "¥0 to ¥4,999: 1 account");
        // Every refund is in a bar, and the tallest bar fills the plot.
        let total: usize = refunds.len();
        assert_eq!(en.bars.len(), 20);
        assert_eq!(en.bars.iter().filter(|bar| bar.height > 0).count(), total);
        assert_eq!(
            en.bars.iter().map(|bar| bar.height).max(),
            Some(en.plot_height)
        );
        assert!(histogram(&[], jpy, Language::Ja).empty);
    }
}
