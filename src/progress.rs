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
}

/// Reports nothing (`--quiet`, tests, or a non-terminal stderr).
pub struct Silent;

impl Reporter for Silent {
    fn step(&self, _name: &str) {}
}

/// Spinners and bars on stderr.
pub struct TerminalReporter {
    bar: Mutex<Option<ProgressBar>>,
}

impl TerminalReporter {
    /// A terminal reporter when stderr is a terminal and not quiet; otherwise silent.
    pub fn for_stderr(quiet: bool) -> Box<dyn Reporter> {
        if quiet || !std::io::stderr().is_terminal() {
            Box::new(Silent)
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
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
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
}
