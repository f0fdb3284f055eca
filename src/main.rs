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
            eprintln!("error: {}", redress::error::printable(&error.to_string()));
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
                RunError::Internal(format!("cannot start {threads} worker threads: {error}"))
            })?;
    }
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode, RunError> {
    match cli.command {
        Command::Run(args) => {
            let settings = Settings::resolve_with(&args.input, args.aggregates.as_deref())?;
            configure_threads(settings.threads)?;
            let reporter = TerminalReporter::for_stderr(settings.quiet);
            let report = pipeline::run(
                &settings,
                &args.out,
                args.force,
                args.templates.as_deref(),
                reporter.as_ref(),
            )?;
            if !settings.quiet {
                let currency = settings.incident.currency;
                let count = |n: u64, one: &str, many: &str| {
                    let grouped = redress::render::notices::group_digits(&n.to_string());
                    format!("{grouped} {}", if n == 1 { one } else { many })
                };
                let total = currency.format(report.totals.refund_total);
                let (units, fraction) = total.split_once('.').unwrap_or((total.as_str(), ""));
                let (sign, digits) = units.strip_prefix('-').map_or(("", units), |d| ("-", d));
                let total = format!(
                    "{sign}{}{}{fraction}",
                    redress::render::notices::group_digits(digits),
                    if fraction.is_empty() { "" } else { "." }
                );
                eprintln!(
                    "redress: {} ({} read, {} rejected); refund total {total} {}; written to {}",
                    count(
                        report.totals.accounts_affected,
                        "affected account",
                        "affected accounts"
                    ),
                    count(report.rows_read, "row", "rows"),
                    count(report.rows_rejected, "row", "rows"),
                    currency.code,
                    report.out.display()
                );
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
            let settings = Settings::resolve(&args)?;
            configure_threads(settings.threads)?;
            let reporter = TerminalReporter::for_stderr(settings.quiet);
            print!("{}", pipeline::check(&settings, reporter.as_ref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            let settings = Settings::resolve(&args.input)?;
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
            print!("{}", redress::incident::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}
