//! The `redress` binary: parse → resolve settings → run the pipeline → print the error chain once
//! and exit with the documented code.

use std::process::ExitCode;

use clap::Parser;

use redress::cli::{Cli, Command};
use redress::error::RunError;
use redress::progress::TerminalReporter;
use redress::settings::Settings;
use redress::{demo, generate, pipeline};

/// jemalloc keeps freed pages for reuse for a while; with glibc's malloc about a seventh of a
/// dense run's CPU went to the kernel zeroing pages that polars had just freed and allocated again
/// (`perf`: `clear_page_erms` 14.6%). mimalloc with its default purge delay was no faster.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = redress::cleanup::install_signal_handler() {
        eprintln!("error: internal error: {message}");
        return ExitCode::from(redress::error::EXIT_INTERNAL);
    }
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", error.report());
            ExitCode::from(error.exit_code())
        }
    }
}

fn configure_threads(threads: Option<usize>) -> Result<(), RunError> {
    if let Some(threads) = threads {
        // polars sizes its pool from this variable when it first starts, which is after this point.
        // SAFETY: no other thread exists yet: clap has only parsed arguments and neither polars nor
        // rayon has started a pool.
        unsafe { std::env::set_var("POLARS_MAX_THREADS", threads.to_string()) };
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|error| {
                RunError::internal(format!("cannot start {threads} worker threads"), error)
            })?;
    }
    Ok(())
}

/// An amount with thousands separators and the currency code: `395,878 JPY`.
fn grouped(currency: redress::money::Currency, amount: redress::money::Money) -> String {
    let total = amount.to_string();
    let (units, fraction) = total.split_once('.').unwrap_or((total.as_str(), ""));
    let (sign, digits) = units.strip_prefix('-').map_or(("", units), |d| ("-", d));
    format!(
        "{sign}{}{}{fraction} {}",
        redress::render::notices::group_digits(digits),
        if fraction.is_empty() { "" } else { "." },
        currency.code
    )
}

/// `n thing` / `n things`, with thousands separators.
fn count(n: u64, one: &str, many: &str) -> String {
    let grouped = redress::render::notices::group_digits(&n.to_string());
    format!("{grouped} {}", if n == 1 { one } else { many })
}

/// What `run` prints when it is done: the totals, and for a supplementary run what this wave pays.
fn closing_lines(settings: &Settings, report: &pipeline::RunReport) -> String {
    let currency = settings.incident.currency;
    let mut text = format!(
        "redress: {} ({} read, {} rejected); refund total {}; written to {}\n",
        count(
            report.totals.accounts_affected,
            "affected account",
            "affected accounts"
        ),
        count(report.rows_read, "row", "rows"),
        count(report.rows_rejected, "row", "rows"),
        grouped(currency, report.totals.refund_total),
        report.out.display()
    );
    if let Some(waves) = &report.totals.waves {
        let paid = match waves.supplement {
            amount if amount.is_zero() => {
                "nothing to pay: earlier waves paid every affected account in full".to_string()
            }
            amount => format!(
                "pays {} to {} (the difference to what was paid before)",
                grouped(currency, amount),
                count(waves.accounts_supplemented, "account", "accounts")
            ),
        };
        text.push_str(&format!(
            "redress: wave {}: {paid}; previously paid {}",
            waves.sequence,
            grouped(currency, waves.previously_paid)
        ));
        if waves.overpaid.accounts > 0 {
            text.push_str(&format!(
                "; {} paid {} more than is owed now (not clawed back; see payouts/overpaid.csv)",
                count(waves.overpaid.accounts, "account", "accounts"),
                grouped(currency, waves.overpaid.amount)
            ));
        }
        if waves.overcorrected.accounts > 0 {
            text.push_str(&format!(
                "; {} corrected by {} more than is owed now (see payouts/overpaid.csv)",
                count(waves.overcorrected.accounts, "bill", "bills"),
                grouped(currency, waves.overcorrected.amount)
            ));
        }
        text.push('\n');
    }
    text
}

fn run(cli: Cli) -> Result<ExitCode, RunError> {
    match cli.command {
        Command::Run(args) => {
            let settings = args.settings().build()?;
            configure_threads(settings.threads)?;
            let reporter = TerminalReporter::for_stderr(settings.quiet);
            let report = pipeline::run(&settings, reporter.as_ref())?;
            if settings.quiet < 2 {
                eprint!("{}", closing_lines(&settings, &report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => {
            let options = redress::stage::PlanOptions::from_args(&args)?;
            let report = redress::stage::plan(&options)?;
            eprintln!(
                "redress: wrote {}/stage.sql (stage id {}) and plan.json; run the script with {}, then `redress run --incident {} --aggregates {} --out DIR`",
                report.out.display(),
                report.stage_id,
                options.dialect.name(),
                args.incident.display(),
                options.aggregates
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => {
            let settings = args.settings().build()?;
            configure_threads(settings.threads)?;
            let reporter = TerminalReporter::for_stderr(settings.quiet);
            print!("{}", pipeline::check(&settings, reporter.as_ref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            let settings = args.input.settings().build()?;
            configure_threads(settings.threads)?;
            let reporter = TerminalReporter::for_stderr(settings.quiet);
            print!(
                "{}",
                pipeline::explain(&settings, &args.account, reporter.as_ref())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate(args) => {
            let report = generate::generate(&generate::GenerateOptions::from_args(&args)?)?;
            eprintln!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            print!("{}", demo::demo(&args.out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            let schema = redress::incident::json_schema()
                .map_err(|error| RunError::internal("writing the incident file's schema", error))?;
            print!("{schema}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
