//! The pipeline, top to bottom: load → identify → compute → reconcile → render → write. Each
//! command (`run`, `check`, `explain`) is a prefix of it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::RunError;
use crate::identify::{self, Identified, OnBadRows, Tables};
use crate::incident::hex;
use crate::ledger::{self, ControlTotals, PayoutPlan};
use crate::load::{self, LoadError};
use crate::money::Money;
use crate::output::{OutputFiles, Staging};
use crate::progress::Reporter;
use crate::refund::{self, AccountRefund, Outcome};
use crate::render;
use crate::return_invoice;
use crate::rules::ReviewReason;
use crate::settings::Settings;

/// What a finished run reports to the user.
#[derive(Debug)]
pub struct RunReport {
    pub out: PathBuf,
    pub totals: ControlTotals,
    pub accounts_in_scope: u64,
    pub rows_read: u64,
    pub rows_rejected: u64,
}

/// Everything computed, before rendering.
pub struct Computed {
    pub identified: Identified,
    pub refunds: Vec<AccountRefund>,
    pub review: Vec<(String, ReviewReason)>,
    pub plan: PayoutPlan,
    pub totals: ControlTotals,
    /// Qualified return invoices: per account, tax rate and regime.
    pub return_lines: Vec<return_invoice::ReturnLine>,
    /// A supplementary run: its earlier waves and what was overpaid.
    pub waves: Option<crate::waves::Waves>,
    /// The languages the documents are written in.
    pub languages: render::languages::DocumentLanguages,
}

/// Finds the three tables; each CSV file's structure is checked (`load::shape`).
fn discover(
    settings: &Settings,
    scratch: &Path,
    reporter: &dyn Reporter,
) -> Result<Tables, LoadError> {
    reporter.step("checking input files");
    let data = &settings.data_dir;
    Ok(Tables {
        accounts: load::discover(
            data,
            "accounts",
            load::ACCOUNT_COLUMNS,
            settings.encoding,
            scratch,
        )?,
        charges: load::discover(
            data,
            "charges",
            load::CHARGE_COLUMNS,
            settings.encoding,
            scratch,
        )?,
        events: load::discover(
            data,
            "events",
            load::EVENT_COLUMNS,
            settings.encoding,
            scratch,
        )?,
    })
}

fn scratch_dir() -> Result<crate::cleanup::RunDir, RunError> {
    let temp = std::env::temp_dir();
    crate::cleanup::RunDir::new_in(&temp, "scratch").map_err(|source| {
        RunError::Output(crate::output::OutputError::Io {
            path: temp.clone(),
            source,
        })
    })
}

/// Runs the money policy over every in-scope account, in parallel, in a deterministic order.
pub fn compute(
    settings: &Settings,
    identified: Identified,
    history: Option<crate::waves::History>,
    reporter: &dyn Reporter,
) -> Result<Computed, RunError> {
    reporter.step("computing refunds");
    let incident = &settings.incident;
    let total = identified.inputs.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let outcomes: Vec<Result<Outcome, refund::ComputeError>> = identified
        .inputs
        .par_iter()
        .map(|input| {
            let outcome = refund::compute_invoices(incident, settings.refund_date, input);
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if finished.is_multiple_of(4096) || finished == total {
                reporter.advance(finished, total);
            }
            outcome
        })
        .collect();
    let mut refunds = Vec::new();
    let mut review = identified.review.clone();
    for outcome in outcomes {
        if let Outcome::Affected(refund) = outcome? {
            refunds.push(*refund);
        }
    }
    review.sort();
    reporter.step("reconciling control totals");
    let plan_of =
        |refunds: &[AccountRefund]| PayoutPlan::new(refunds, incident, settings.refund_date);
    let (plan, waves) = match history {
        None => (plan_of(&refunds), None),
        Some(history) => {
            let (plan, waves) = crate::waves::settle(
                history,
                incident,
                settings.refund_date,
                &identified.inputs,
                &mut refunds,
                &review,
                plan_of,
            )?;
            (plan, Some(waves))
        }
    };
    let totals = ledger::reconcile(
        &refunds,
        &plan,
        review.len() as u64,
        waves.as_ref().map(|waves| &waves.totals),
        incident.currency,
    )?;
    let return_lines = return_invoices(settings, &refunds)?;
    let languages = render::languages::decide(incident, &identified.inputs, &refunds)?;
    Ok(Computed {
        identified,
        refunds,
        review,
        plan,
        totals,
        return_lines,
        waves,
        languages,
    })
}

/// The qualified return invoices of the refunds, reconciled with them; refused when a refund of
/// sales under the qualified-invoice system has no registration number (or no refund date) to
/// state.
fn return_invoices(
    settings: &Settings,
    refunds: &[AccountRefund],
) -> Result<Vec<return_invoice::ReturnLine>, RunError> {
    let incident = &settings.incident;
    let policy = &incident.return_invoice;
    let lines = return_invoice::lines(
        refunds,
        policy,
        incident.currency.code,
        settings.refund_date,
    )
    .map_err(refund::ComputeError::from)?;
    ledger::reconcile_returns(refunds, &lines)?;
    let key_error = |key: &str, message: String, hint: &str| {
        RunError::Config(crate::incident::ConfigError::Key {
            path: incident.path.clone(),
            key: key.to_string(),
            message,
            hint: Some(hint.to_string()),
        })
    };
    if let Some(line) = return_invoice::missing_registration(policy, &lines) {
        return Err(key_error(
            "incident.registration_number",
            format!(
                "is required: account `{}` is refunded for sales billed in {}, under the qualified-invoice system (from 2023-10), so its refund needs a qualified return invoice (適格返還請求書) with the issuer's registration number",
                line.account_id, line.sales_to
            ),
            "add registration_number = \"T…\" (T and 13 digits) to [incident], or qualified_invoice_issuer = false if the company is not registered",
        ));
    }
    if settings.refund_date.is_none()
        && let Some(line) = lines.iter().find(|line| line.required)
    {
        return Err(key_error(
            "incident.refund_date",
            format!(
                "is required: account `{}` needs a qualified return invoice, which states the date of the refund",
                line.account_id
            ),
            "give refund_date = YYYY-MM-DD in [incident], or --refund-date",
        ));
    }
    Ok(lines)
}

/// Loads, identifies and computes.
pub fn evaluate(settings: &Settings, reporter: &dyn Reporter) -> Result<Computed, RunError> {
    evaluate_with(settings, identify::Passes::Auto, reporter)
}

/// [`evaluate`] with the number of passes over the charges chosen.
pub fn evaluate_with(
    settings: &Settings,
    passes: identify::Passes,
    reporter: &dyn Reporter,
) -> Result<Computed, RunError> {
    let scratch = scratch_dir()?;
    Ok(load_and_compute(settings, scratch.path(), passes, reporter)?.1)
}

/// Finds the tables, identifies the in-scope accounts and computes them; the tables are returned
/// for the manifest (their files are hashed and counted).
fn load_and_compute(
    settings: &Settings,
    scratch: &Path,
    passes: identify::Passes,
    reporter: &dyn Reporter,
) -> Result<(Tables, Computed), RunError> {
    let tables = discover(settings, scratch, reporter)?;
    let computed = compute_tables(settings, &tables, passes, None, reporter)?;
    Ok((tables, computed))
}

fn compute_tables(
    settings: &Settings,
    tables: &Tables,
    passes: identify::Passes,
    history: Option<crate::waves::History>,
    reporter: &dyn Reporter,
) -> Result<Computed, RunError> {
    let identified = identify::identify_with(
        &settings.incident,
        tables,
        settings.on_bad_rows,
        passes,
        reporter,
    )?;
    compute(settings, identified, history, reporter)
}

/// SHA-256 of every input file, computed on a thread of its own while the charges are read (the
/// CSV reader leaves a core partly idle); dropping it before [`InputHashes::wait`] stops it.
struct InputHashes {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<Vec<String>, RunError>>>,
}

impl InputHashes {
    fn start(tables: &Tables) -> InputHashes {
        let files: Vec<load::InputFile> = [&tables.accounts, &tables.charges, &tables.events]
            .iter()
            .flat_map(|table| table.files.iter().cloned())
            .collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let handle = std::thread::spawn(move || {
            files
                .iter()
                .map(|file| {
                    sha256_file(&file.path, &stopped).map_err(|error| {
                        RunError::Load(LoadError::Read {
                            file: file.display.clone(),
                            source: error.into(),
                        })
                    })
                })
                .collect()
        });
        InputHashes {
            stop,
            handle: Some(handle),
        }
    }

    /// The hashes, in the order of the tables' files (accounts, charges, events).
    fn wait(mut self) -> Result<Vec<String>, RunError> {
        self.handle
            .take()
            .ok_or_else(|| RunError::bug("input hashes waited for twice"))?
            .join()
            .map_err(|_| RunError::bug("hashing the input files panicked"))?
    }
}

impl Drop for InputHashes {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// `redress run`.
pub fn run(settings: &Settings, reporter: &dyn Reporter) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let (template_env, pdf) = checked_before_work(settings)?;
    let staging = open_output(settings)?;
    let scratch = scratch_dir()?;
    let history = read_history(settings, reporter)?;
    let (computed, inputs) = compute_inputs(settings, scratch.path(), history, reporter)?;
    warn_of_documents_left_out(&computed, reporter);

    reporter.step("writing outputs");
    let refund_accounts = refunded_accounts(&computed)?;
    let (mut files, summary) = render_files(
        settings,
        &computed,
        &refund_accounts,
        &template_env,
        reporter,
    )?;
    staging.write_all(&files)?;
    verify_read_back(&staging, &computed.totals, settings.incident.currency)?;

    reporter.step("writing notices");
    let notified = write_notices(
        &staging,
        &mut files,
        settings,
        &computed,
        &refund_accounts,
        &template_env,
        reporter,
    )?;
    if let Some(engine) = &pdf {
        reporter.step("printing notices to PDF");
        engine.print_notices(&staging.path().join("notices"), &notified, scratch.path())?;
    }

    reporter.step("hashing input files");
    let mut manifest = manifest_of(inputs, settings, &computed, &files, started)?;
    write_report(
        &staging,
        settings,
        &computed,
        &summary,
        &mut manifest,
        &template_env,
        &files,
    )?;
    reporter.step("committing output directory");
    let out = commit(staging, &mut manifest, started)?;
    reporter.finish();
    Ok(RunReport {
        out,
        totals: computed.totals,
        accounts_in_scope: computed.identified.accounts_in_scope,
        rows_read: manifest.rows.read,
        rows_rejected: manifest.rows.rejected,
    })
}

/// The staging directory beside `--out`; refuses an `--out` that holds an input.
fn open_output(settings: &Settings) -> Result<Staging, RunError> {
    let out = settings
        .out
        .as_deref()
        .ok_or_else(|| RunError::bug("a run without --out"))?;
    let mut protected: Vec<&Path> = vec![&settings.data_dir, &settings.incident.path];
    protected.extend(settings.templates.as_deref());
    protected.extend(settings.previous.iter().map(PathBuf::as_path));
    protected.extend(settings.paid.iter().map(PathBuf::as_path));
    Ok(Staging::new(out, settings.force, &protected)?)
}

/// The earlier waves and paid-outside files of a supplementary run, verified; `None` for a first
/// run.
fn read_history(
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Option<crate::waves::History>, RunError> {
    if !settings.previous.is_empty() || !settings.paid.is_empty() {
        reporter.step("verifying earlier waves");
    }
    Ok(crate::waves::read(
        &settings.incident,
        &settings.previous,
        &settings.paid,
        settings.encoding,
    )?)
}

/// A press release in a language no affected account reads is left out when its texts are
/// incomplete: said once, as a warning.
fn warn_of_documents_left_out(computed: &Computed, reporter: &dyn Reporter) {
    for gap in &computed.languages.skipped {
        reporter.warn(&format!(
            "summary/press_release.{}.md not written: no affected account reads `{}`, and the incident file lacks {}",
            gap.language.code(),
            gap.language.code(),
            gap.keys.join(", ")
        ));
    }
}

/// The manifest written last, then the staging directory renamed into place.
fn commit(
    staging: Staging,
    manifest: &mut render::manifest::Manifest,
    started: Instant,
) -> Result<PathBuf, RunError> {
    manifest.run_time_ms = started.elapsed().as_millis() as u64;
    let manifest_bytes = render::manifest::render(manifest)
        .map_err(|error| RunError::internal("writing manifest.json", error))?;
    staging.write("manifest.json", &manifest_bytes)?;
    Ok(staging.commit()?)
}

/// What is checked before any work, so that a typo or a missing engine fails fast: the templates
/// (rendered once each) and, with `--pdf`, the PDF engine.
fn checked_before_work(
    settings: &Settings,
) -> Result<
    (
        minijinja::Environment<'static>,
        Option<render::pdf::PdfEngine>,
    ),
    RunError,
> {
    let template_env = render::notices::environment(settings.templates.as_deref())?;
    let pdf = settings
        .pdf
        .then(render::pdf::PdfEngine::find)
        .transpose()?;
    Ok((template_env, pdf))
}

/// Reads the inputs (the data tables, hashed on a thread of their own, or a planned stage's
/// aggregates) and computes every refund.
fn compute_inputs(
    settings: &Settings,
    scratch: &Path,
    history: Option<crate::waves::History>,
    reporter: &dyn Reporter,
) -> Result<(Computed, Inputs), RunError> {
    Ok(match &settings.aggregates {
        Some(location) => {
            reporter.step("reading aggregates");
            let aggregates = crate::stage::aggregates::read(&settings.incident, location)?;
            let computed = compute(settings, aggregates.identified, history, reporter)?;
            let inputs = Inputs::Aggregates(aggregates.stage, aggregates.files);
            (computed, inputs)
        }
        None => {
            let tables = discover(settings, scratch, reporter)?;
            let hashes = InputHashes::start(&tables);
            let computed =
                compute_tables(settings, &tables, identify::Passes::Auto, history, reporter)?;
            (computed, Inputs::Tables(tables, hashes))
        }
    })
}

/// The manifest, once the inputs are hashed (and checked unchanged) or the aggregates recorded.
fn manifest_of(
    inputs: Inputs,
    settings: &Settings,
    computed: &Computed,
    files: &OutputFiles,
    started: Instant,
) -> Result<render::manifest::Manifest, RunError> {
    Ok(match inputs {
        Inputs::Tables(tables, hashes) => {
            let hashes = hashes.wait()?;
            for table in [&tables.accounts, &tables.charges, &tables.events] {
                load::verify_unchanged(table)?;
            }
            manifest(settings, computed, files, &hashes, started)?
        }
        Inputs::Aggregates(stage, aggregate_files) => {
            let mut manifest = manifest(settings, computed, files, &[], started)?;
            manifest.inputs = Vec::new();
            manifest.stage = Some(stage_entry(&stage, &aggregate_files)?);
            manifest
        }
    })
}

/// What the manifest records of a run's inputs.
enum Inputs {
    Tables(Tables, InputHashes),
    Aggregates(
        crate::stage::aggregates::Stage,
        Vec<crate::stage::aggregates::AggregateFile>,
    ),
}

/// The manifest's record of a planned stage: its SQL's id and every aggregates file's hash.
fn stage_entry(
    stage: &crate::stage::aggregates::Stage,
    files: &[crate::stage::aggregates::AggregateFile],
) -> Result<render::manifest::StageEntry, RunError> {
    let never = std::sync::atomic::AtomicBool::new(false);
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        let sha256 = sha256_file(&file.path, &never).map_err(|error| {
            RunError::Load(LoadError::Read {
                file: file.path.display().to_string(),
                source: error.into(),
            })
        })?;
        entries.push(render::manifest::AggregateEntry {
            table: file.table.clone(),
            file: file.file.clone(),
            sha256,
            rows: file.rows,
        });
    }
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(render::manifest::StageEntry {
        stage_sql_id: stage.stage_id.clone(),
        engine: stage.engine.clone(),
        charge_amount_in_scope_minor: stage.charge_amount_in_scope.clone(),
        aggregates: entries,
    })
}

/// The account row of each refund, in refund order.
fn refunded_accounts(computed: &Computed) -> Result<Vec<&crate::model::Account>, RunError> {
    let accounts: std::collections::HashMap<&str, &crate::model::Account> = computed
        .identified
        .inputs
        .iter()
        .map(|input| (input.account.account_id.as_str(), &input.account))
        .collect();
    computed
        .refunds
        .iter()
        .map(|refund| accounts.get(refund.account_id.as_str()).copied())
        .collect::<Option<_>>()
        .ok_or_else(|| RunError::bug("a refunded account has no account row"))
}

/// The ledgers, payout files and summary, checked against the control totals.
fn render_files(
    settings: &Settings,
    computed: &Computed,
    refund_accounts: &[&crate::model::Account],
    template_env: &minijinja::Environment<'static>,
    reporter: &dyn Reporter,
) -> Result<(OutputFiles, render::summary::Summary), RunError> {
    let incident = &settings.incident;
    let mut files = OutputFiles::default();
    let rejects = (settings.on_bad_rows == OnBadRows::Reject)
        .then_some(computed.identified.rejects.as_slice());
    render::ledger::render(
        &mut files,
        &render::ledger::Ledger {
            refunds: &computed.refunds,
            plan: &computed.plan,
            review: &computed.review,
            rejects,
            returns: &computed.return_lines,
            policy: &incident.return_invoice,
            currency: incident.currency,
            waves: computed.waves.as_ref(),
        },
    )?;
    render_payout_files(&mut files, settings, computed, refund_accounts, reporter)?;
    render::excel::render(&mut files, None)
        .map_err(|error| RunError::internal("writing the Excel copies", error))?;
    let summary = render::summary::build(
        incident,
        settings.refund_date,
        &computed.refunds,
        &computed.totals,
        &computed.plan,
        computed.identified.accounts_in_scope,
        computed
            .waves
            .as_ref()
            .map(|waves| {
                render::summary::waves_summary(waves, incident.currency, settings.refund_date)
            })
            .transpose()
            .map_err(ledger::LedgerError::from)?,
    )
    .map_err(ledger::LedgerError::from)?;
    if let Some(waves) = &summary.waves {
        let expected = computed
            .totals
            .refund_total
            .plus(waves.overpaid, "paid to date")
            .map_err(ledger::LedgerError::from)?;
        if waves.paid_to_date != expected {
            return Err(RunError::Ledger(ledger::LedgerError::Mismatch(format!(
                "the summary's waves total {} to date, but Σ now_owed + Σ overpaid = {expected}",
                waves.paid_to_date
            ))));
        }
    }
    let by_region = Money::sum(
        summary.by_region.iter().map(|region| region.refund_total),
        incident.currency.digits,
        "the summary's regions",
    )
    .map_err(ledger::LedgerError::from)?;
    if by_region != computed.totals.refund_total {
        return Err(RunError::Ledger(ledger::LedgerError::Mismatch(format!(
            "summary total by region {by_region} ≠ ledger total {}",
            computed.totals.refund_total
        ))));
    }
    render::summary::render(
        &mut files,
        template_env,
        incident,
        &summary,
        render::notices::PaymentDays {
            refund_date: settings.refund_date,
            transfer_date: settings.transfer_date,
        },
        &computed.plan,
        &computed.languages.press_releases,
    )?;
    Ok((files, summary))
}

/// `summary/report.html`, written once the inputs are hashed (it states their SHA-256), and
/// recorded in the manifest like every other output.
fn write_report(
    staging: &Staging,
    settings: &Settings,
    computed: &Computed,
    summary: &render::summary::Summary,
    manifest: &mut render::manifest::Manifest,
    template_env: &minijinja::Environment<'static>,
    files: &OutputFiles,
) -> Result<(), RunError> {
    const PATH: &str = "summary/report.html";
    let incident = &settings.incident;
    let svg = files
        .get("summary/refund_distribution.svg")
        .ok_or_else(|| RunError::bug("the histogram was not rendered"))?;
    let svg = std::str::from_utf8(svg)
        .map_err(|error| RunError::internal("the histogram is not UTF-8", error))?;
    let html = render::report::report(
        template_env,
        incident,
        settings.refund_date,
        summary,
        &computed.totals,
        manifest,
        svg,
    )?;
    staging.write(PATH, html.as_bytes())?;
    manifest.outputs.push(PATH.to_string());
    manifest.outputs.sort();
    manifest.output_sha256.insert(
        PATH.to_string(),
        render::manifest::sha256_hex(html.as_bytes()),
    );
    Ok(())
}

/// One notice per account to notify, and their index (with its excel/ copy), written to the
/// staging directory and added to `files` for the manifest; returns the notices' refund_ids in index
/// order.
#[allow(clippy::too_many_arguments)]
fn write_notices(
    staging: &Staging,
    files: &mut OutputFiles,
    settings: &Settings,
    computed: &Computed,
    refund_accounts: &[&crate::model::Account],
    template_env: &minijinja::Environment<'static>,
    reporter: &dyn Reporter,
) -> Result<Vec<String>, RunError> {
    let notify = |refund: &AccountRefund| {
        computed
            .waves
            .as_ref()
            .is_none_or(|waves| waves.needs_notice(refund, &computed.plan))
    };
    let pairs: Vec<(&AccountRefund, &crate::model::Account)> = computed
        .refunds
        .iter()
        .zip(refund_accounts.iter().copied())
        .filter(|(refund, _)| notify(refund))
        .collect();
    let index = render::notices::write_all(
        staging,
        template_env,
        &settings.incident,
        render::notices::PaymentDays {
            refund_date: settings.refund_date,
            transfer_date: settings.transfer_date,
        },
        &computed.plan,
        &pairs,
        &computed.return_lines,
        reporter,
    )?;
    files.add("notices/index.csv", index);
    render::excel::render(files, Some("notices/index.csv"))
        .map_err(|error| RunError::internal("writing the Excel copies", error))?;
    for path in files
        .paths()
        .filter(|path| *path == "notices/index.csv" || path.starts_with("excel/notices_index"))
    {
        if let Some(bytes) = files.get(path) {
            staging.write(path, bytes)?;
        }
    }
    Ok(pairs
        .iter()
        .map(|(refund, _)| refund.refund_id.clone())
        .collect())
}

/// What was read, computed and written, for manifest.json.
fn manifest(
    settings: &Settings,
    computed: &Computed,
    files: &OutputFiles,
    hashes: &[String],
    started: Instant,
) -> Result<render::manifest::Manifest, RunError> {
    let incident = &settings.incident;
    let stats = &computed.identified.files;
    let mut outputs: Vec<String> = files.paths().map(str::to_string).collect();
    let output_sha256 = outputs
        .iter()
        .map(|path| {
            let bytes = files
                .get(path)
                .ok_or_else(|| RunError::bug(format!("output `{path}` vanished")))?;
            Ok((path.clone(), render::manifest::sha256_hex(bytes)))
        })
        .collect::<Result<_, RunError>>()?;
    outputs.push("notices/*.md, notices/*.html".to_string());
    if settings.pdf {
        outputs.push("notices/pdf/*.pdf, notices/notices.pdf".to_string());
    }
    outputs.push("manifest.json".to_string());
    outputs.sort();
    Ok(render::manifest::Manifest {
        tool: "redress",
        tool_version: env!("CARGO_PKG_VERSION"),
        incident_id: incident.id.clone(),
        incident_kind: incident.kind.as_str(),
        incident_file_sha256: incident.file_sha256.clone(),
        currency: incident.currency.code,
        refund_date: settings.refund_date.map(|date| date.to_string()),
        transfer_date: settings.transfer_date.map(|date| date.to_string()),
        on_bad_rows: match settings.on_bad_rows {
            OnBadRows::Abort => "abort",
            OnBadRows::Reject => "reject",
        },
        inputs: render::manifest::input_entries(stats, hashes),
        rows: render::manifest::RowCounts {
            read: stats.iter().map(|file| file.rows).sum(),
            rejected: stats.iter().map(|file| file.rows_rejected).sum(),
            accounts_in_scope: computed.identified.accounts_in_scope,
            charge_rows_in_scope: computed.identified.charge_rows_in_scope,
        },
        control_totals: computed.totals.clone(),
        stage: None,
        wave: computed.waves.as_ref().map(|waves| waves.history.entry()),
        outputs,
        output_sha256,
        run_time_ms: started.elapsed().as_millis() as u64,
    })
}

/// Reads refunds.csv back from the staging directory and checks its total against the ledger.
fn verify_read_back(
    staging: &Staging,
    totals: &ControlTotals,
    currency: crate::money::Currency,
) -> Result<(), RunError> {
    let path = staging.path().join("refunds.csv");
    let unreadable =
        |error: csv::Error| RunError::internal(format!("reading back {}", path.display()), error);
    let mut reader = csv::Reader::from_path(&path).map_err(unreadable)?;
    let column = reader
        .headers()
        .map_err(unreadable)?
        .iter()
        .position(|name| name == "refund_total")
        .ok_or_else(|| RunError::bug("refunds.csv has no refund_total column"))?;
    let mut total: i64 = 0;
    let mut rows: u64 = 0;
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        let value = record.get(column).unwrap_or("");
        let minor = crate::money::parse_minor(value, currency.digits).map_err(|_| {
            RunError::bug(format!("refunds.csv read back: `{value}` is not an amount"))
        })?;
        total = total
            .checked_add(minor)
            .ok_or_else(|| RunError::bug("refunds.csv read back overflows"))?;
        rows += 1;
    }
    if total != totals.refund_total.minor() || rows != totals.accounts_affected {
        return Err(RunError::Ledger(ledger::LedgerError::Mismatch(format!(
            "refunds.csv as written holds {rows} accounts totalling {total}, the ledger {} totalling {}",
            totals.accounts_affected, totals.refund_total
        ))));
    }
    Ok(())
}

/// bank_transfers.csv and the Zengin file; refuses to write a transfer a bank would reject.
fn render_payout_files(
    files: &mut OutputFiles,
    settings: &Settings,
    computed: &Computed,
    refund_accounts: &[&crate::model::Account],
    reporter: &dyn Reporter,
) -> Result<(), RunError> {
    let written = render::ledger::bank_transfers(
        files,
        &render::ledger::Transfers {
            plan: &computed.plan,
            accounts: refund_accounts,
            incident: &settings.incident,
            transfer_date: settings.transfer_date,
            sequence: computed.waves.as_ref().map(|waves| waves.totals.sequence),
        },
    )?;
    if let render::ledger::Zengin::NotWritten { transfers, why } = written {
        reporter.warn(&format!(
            "{transfers} bank transfers are listed in payouts/bank_transfers.csv, but no payouts/zengin.txt was written: {why}"
        ));
    }
    Ok(())
}

fn sha256_file(path: &Path, stop: &std::sync::atomic::AtomicBool) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::other("stopped"));
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// `redress check`: the report printed to stdout.
pub fn check(settings: &Settings, reporter: &dyn Reporter) -> Result<String, RunError> {
    let computed = evaluate(settings, reporter)?;
    reporter.finish();
    Ok(render::text::check(&settings.incident, &computed))
}

/// `redress explain`: every step of one account's calculation.
pub fn explain(
    settings: &Settings,
    account_id: &str,
    reporter: &dyn Reporter,
) -> Result<String, RunError> {
    let scratch = scratch_dir()?;
    let tables = discover(settings, scratch.path(), reporter)?;
    let explained = identify::explain(
        &settings.incident,
        &tables,
        settings.on_bad_rows,
        account_id,
        reporter,
    )?;
    reporter.finish();
    let incident = &settings.incident;
    let focus = match explained {
        identify::Explained::Review(reason) => {
            return Ok(render::text::explain_review(incident, account_id, reason));
        }
        identify::Explained::UnknownAccount => {
            return Err(RunError::Usage(format!(
                "account `{account_id}` is not in the accounts table ({})\nhint: check the account_id (they are exact and case-sensitive)",
                tables
                    .accounts
                    .files
                    .iter()
                    .map(|file| file.display.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        identify::Explained::NotInScope => {
            return Err(RunError::Usage(format!(
                "account `{account_id}` is not in scope of incident `{}`\nhint: it needs a `{}` event{} inside the scope filters; `redress check` prints the scope counts",
                incident.id,
                incident.trigger.event,
                incident
                    .trigger
                    .detail
                    .as_ref()
                    .map(|detail| format!(" with detail `{detail}`"))
                    .unwrap_or_default()
            )));
        }
        identify::Explained::Account(focus) => focus,
    };
    let (invoices, outcome) = refund::trace(incident, settings.refund_date, &focus.input)?;
    Ok(render::text::explain(incident, &focus, &invoices, &outcome))
}
