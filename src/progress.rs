//! Progress reporting. The core calls a `Reporter`; the terminal bars live at the edge
//! (`TerminalReporter`), so library code and tests never touch the terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Receives progress from long steps.
pub trait Reporter: Sync {
    /// A new step starts; the previous one is finished.
    fn step(&self, name: &str);
    /// Units of work inside the current step (e.g. accounts computed).
    fn advance(&self, _done: u64, _total: u64) {}
    /// All steps are done.
    fn finish(&self) {}
    /// Something the user should know that does not stop the run (printed unless `--quiet`).
    fn warn(&self, _message: &str) {}
}

/// Reports nothing (`--quiet`, tests).
pub struct Silent;

impl Reporter for Silent {
    fn step(&self, _name: &str) {}
}

/// No progress, warnings only: stderr is not a terminal (a log, a pipe).
pub struct Plain;

impl Reporter for Plain {
    fn step(&self, _name: &str) {}

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// Prints each step's wall time to stderr when it ends (`REDRESS_TIMINGS=1`), for benchmarks.
pub struct Timings {
    current: Mutex<Option<(String, std::time::Instant)>>,
}

impl Timings {
    pub fn new() -> Timings {
        Timings {
            current: Mutex::new(None),
        }
    }

    fn close(&self, slot: &mut Option<(String, std::time::Instant)>) {
        if let Some((name, started)) = slot.take() {
            eprintln!("timing: {name}: {} ms", started.elapsed().as_millis());
        }
    }
}

impl Default for Timings {
    fn default() -> Self {
        Timings::new()
    }
}

impl Reporter for Timings {
    fn step(&self, name: &str) {
        if let Ok(mut slot) = self.current.lock() {
            self.close(&mut slot);
            *slot = Some((name.to_string(), std::time::Instant::now()));
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.current.lock() {
            self.close(&mut slot);
        }
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// A step with a known amount of work: counts with separators, percentage, elapsed time and ETA.
const BAR: &str =
    "{msg} [{bar:30}] {human_pos}/{human_len} ({percent}%) {elapsed} elapsed, ETA {eta}";

/// Spinners and bars on stderr.
pub struct TerminalReporter {
    bar: Mutex<Option<ProgressBar>>,
}

impl TerminalReporter {
    /// A terminal reporter when stderr is a terminal and `quiet` is 0; warnings only when stderr
    /// is not a terminal or with `-q` (1); nothing with `-qq` (2 or more).
    pub fn for_stderr(quiet: u8) -> Box<dyn Reporter> {
        if std::env::var_os("REDRESS_TIMINGS").is_some_and(|value| value == "1") {
            Box::new(Timings::new())
        } else if quiet >= 2 {
            Box::new(Silent)
        } else if quiet == 1 || !std::io::stderr().is_terminal() {
            Box::new(Plain)
        } else {
            Box::new(TerminalReporter {
                bar: Mutex::new(None),
            })
        }
    }
}

impl Reporter for TerminalReporter {
    fn step(&self, name: &str) {
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        if let Some(bar) = slot.take() {
            bar.finish_and_clear();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        *slot = Some(bar);
    }

    fn advance(&self, done: u64, total: u64) {
        let Ok(slot) = self.bar.lock() else { return };
        if let Some(bar) = slot.as_ref() {
            if bar.length() != Some(total) {
                bar.set_length(total);
                bar.set_style(
                    ProgressStyle::with_template(BAR)
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            bar.set_position(done);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }

    fn warn(&self, message: &str) {
        let line = format!("warning: {message}");
        match self.bar.lock() {
            Ok(slot) if slot.is_some() => {
                if let Some(bar) = slot.as_ref() {
                    bar.suspend(|| eprintln!("{line}"));
                }
            }
            _ => eprintln!("{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bar_template_is_valid() {
        assert!(indicatif::ProgressStyle::with_template(super::BAR).is_ok());
    }
}
