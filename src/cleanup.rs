//! Nothing left behind: the staging and scratch directories a run creates are registered here and
//! removed when the run fails (their guards drop), when it is interrupted (SIGINT, SIGTERM, SIGHUP:
//! [`install_signal_handler`]), and, after a `kill -9`, by the next run, which finds directories
//! whose name carries the id of a process that no longer exists ([`remove_stale`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Exit code after an interrupting signal (128 + SIGINT, as shells report Ctrl-C).
pub const EXIT_INTERRUPTED: i32 = 130;

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes `path` if the run is interrupted (until [`unregister`]).
pub fn register(path: &Path) {
    if let Ok(mut paths) = REGISTERED.lock() {
        paths.push(path.to_path_buf());
    }
}

pub fn unregister(path: &Path) {
    if let Ok(mut paths) = REGISTERED.lock() {
        paths.retain(|registered| registered != path);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: removes every registered directory and exits with
/// [`EXIT_INTERRUPTED`]. Called once by the binary.
pub fn install_signal_handler() -> Result<(), String> {
    ctrlc::set_handler(|| {
        let paths = REGISTERED
            .lock()
            .map(|paths| paths.clone())
            .unwrap_or_default();
        for path in paths {
            let _ = std::fs::remove_dir_all(&path);
        }
        eprintln!("redress: interrupted; nothing was written");
        std::process::exit(EXIT_INTERRUPTED);
    })
    .map_err(|error| format!("cannot install the interrupt handler: {error}"))
}

/// The name prefix of this process's directories of `kind` (`staging`, `scratch`):
/// `.redress-{pid}-{kind}-`.
pub fn prefix(kind: &str) -> String {
    format!(".redress-{}-{kind}-", std::process::id())
}

/// Removes directories in `dir` named `.redress-{pid}-…` whose process no longer runs: what a
/// killed run left. Only on systems with `/proc`; elsewhere nothing is removed.
pub fn remove_stale(dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(".redress-") else {
            continue;
        };
        let Some(pid) = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A temporary directory of this run: registered for removal on interrupt, removed when dropped.
pub struct RunDir {
    dir: Option<tempfile::TempDir>,
}

impl RunDir {
    /// Creates `.redress-{pid}-{kind}-…` in `parent`, first removing what killed runs left there.
    pub fn new_in(parent: &Path, kind: &str) -> std::io::Result<RunDir> {
        remove_stale(parent);
        let dir = tempfile::Builder::new()
            .prefix(&prefix(kind))
            .tempdir_in(parent)?;
        register(dir.path());
        Ok(RunDir { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |dir| dir.path())
    }

    /// Keeps the directory past this guard; it stays registered until [`unregister`].
    pub fn keep(mut self) -> PathBuf {
        self.dir
            .take()
            .map(tempfile::TempDir::keep)
            .unwrap_or_default()
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            unregister(dir.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_directories_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0 never names a user process, and /proc/0 does not exist.
        let dead = dir.path().join(".redress-0-staging-abc");
        let alive = dir.path().join(format!("{}x", prefix("staging")));
        let unrelated = dir.path().join("keep-me");
        let other = dir.path().join(".redress-old");
        for path in [&dead, &alive, &unrelated, &other] {
            std::fs::create_dir(path).unwrap();
        }
        remove_stale(dir.path());
        assert!(!dead.exists());
        assert!(alive.exists() && unrelated.exists() && other.exists());
    }
}
