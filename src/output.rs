//! The output directory: everything is staged in a temporary directory beside `--out` and renamed
//! into place only when complete, so a failed or interrupted run leaves no partial `--out`. Paths
//! come only from redress itself, never from data values.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "output directory `{0}` already exists\nhint: choose a new --out, or pass --force to replace it"
    )]
    Exists(PathBuf),
    #[error("cannot create output in `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("refusing to write `{0}`: output paths must stay inside --out")]
    UnsafePath(String),
    #[error("refusing to replace `{path}`: {reason}\nhint: {hint}")]
    Refused {
        path: PathBuf,
        reason: String,
        hint: String,
    },
}

/// Files to write, by relative path.
#[derive(Debug, Default)]
pub struct OutputFiles {
    files: Vec<(String, Vec<u8>)>,
}

impl OutputFiles {
    pub fn add(&mut self, relative: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.push((relative.into(), bytes.into()));
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(path, _)| path.as_str())
    }

    pub fn get(&self, relative: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(path, _)| path == relative)
            .map(|(_, bytes)| bytes.as_slice())
    }
}

/// A staging directory beside the final output.
pub struct Staging {
    dir: crate::cleanup::RunDir,
    out: PathBuf,
    force: bool,
}

/// What an interrupted `--force` leaves: the previous output moved aside.
fn backup_of(out: &Path) -> PathBuf {
    let mut backup = out.to_path_buf().into_os_string();
    backup.push(".redress-old");
    PathBuf::from(backup)
}

/// Whether `dir` is empty or holds a `manifest.json` that redress wrote.
/// Empty, or holding the manifest.json of a run (or the plan.json of `redress plan`).
fn written_by_redress(dir: &Path) -> bool {
    let empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none());
    let ours = |name: &str| {
        std::fs::read(dir.join(name))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|manifest| manifest["tool"] == "redress")
    };
    empty || ours("manifest.json") || ours("plan.json")
}

impl Staging {
    /// Refuses an existing `out` unless `force`, and then only a directory redress wrote that
    /// holds none of the `protected` paths (inputs, incident file, templates); creates the
    /// staging directory beside it. Leftovers of a killed run beside `out` are removed first, and
    /// a `--force` interrupted between its two renames is rolled back.
    pub fn new(out: &Path, force: bool, protected: &[&Path]) -> Result<Staging, OutputError> {
        let parent = match out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, source }
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        recover_interrupted_force(out)?;
        let refused = |reason: &str, hint: &str| OutputError::Refused {
            path: out.to_path_buf(),
            reason: reason.to_string(),
            hint: hint.to_string(),
        };
        if let Ok(metadata) = std::fs::symlink_metadata(out) {
            if metadata.file_type().is_symlink() {
                return Err(refused(
                    "it is a symbolic link",
                    "give --out as the real directory path",
                ));
            }
            if !force {
                return Err(OutputError::Exists(out.to_path_buf()));
            }
            if !metadata.is_dir() {
                return Err(refused(
                    "it is a file, not an output directory of redress",
                    "choose a new --out",
                ));
            }
            let out_real = out.canonicalize().map_err(io(out))?;
            for path in protected {
                if let Ok(real) = path.canonicalize()
                    && real.starts_with(&out_real)
                {
                    return Err(refused(
                        &format!("it holds `{}`, an input of this run", path.display()),
                        "--force would delete it; choose an --out outside the inputs",
                    ));
                }
            }
            if !written_by_redress(out) {
                return Err(refused(
                    "it was not written by redress (it has no manifest.json or plan.json of redress)",
                    "--force replaces only an earlier output of redress; choose a new --out",
                ));
            }
        }
        let dir = crate::cleanup::RunDir::new_in(&parent, "staging").map_err(io(&parent))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            force,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one file below the staging directory.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.resolve(relative)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| OutputError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, bytes).map_err(|source| OutputError::Io { path, source })
    }

    /// Writes all files.
    pub fn write_all(&self, files: &OutputFiles) -> Result<(), OutputError> {
        for (relative, bytes) in &files.files {
            self.write(relative, bytes)?;
        }
        Ok(())
    }

    /// A path inside the staging directory; refuses anything that could leave it.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, OutputError> {
        let candidate = Path::new(relative);
        let safe = !relative.is_empty()
            && candidate
                .components()
                .all(|component| matches!(component, Component::Normal(_)));
        if !safe {
            return Err(OutputError::UnsafePath(relative.to_string()));
        }
        Ok(self.dir.path().join(candidate))
    }

    /// Moves the staged directory to `out`, replacing an existing one when forced. On failure the
    /// staged directory is removed and the previous output, if any, is left in place.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        let staged = self.dir.keep();
        let result = Self::move_into_place(&staged, &self.out, self.force);
        if result.is_err() && staged.exists() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        crate::cleanup::unregister(&staged);
        result.map(|()| self.out)
    }

    fn move_into_place(staged: &Path, out: &Path, force: bool) -> Result<(), OutputError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, source }
        };
        if std::fs::symlink_metadata(out).is_err() {
            return std::fs::rename(staged, out).map_err(io(out));
        }
        if !force {
            return Err(OutputError::Exists(out.to_path_buf()));
        }
        // out → backup, staged → out, remove backup. A kill between the renames leaves only the
        // backup, which the next run on this --out moves back (`recover_interrupted_force`).
        let backup = backup_of(out);
        if backup.exists() {
            std::fs::remove_dir_all(&backup).map_err(io(&backup))?;
        }
        std::fs::rename(out, &backup).map_err(io(out))?;
        if let Err(error) = std::fs::rename(staged, out) {
            let _ = std::fs::rename(&backup, out);
            return Err(OutputError::Io {
                path: out.to_path_buf(),
                source: error,
            });
        }
        std::fs::remove_dir_all(&backup).map_err(io(&backup))
    }
}

/// Completes or rolls back a `--force` that was killed: with both `out` and its backup, the new
/// output was in place and the backup is removed; with the backup alone, it is moved back.
fn recover_interrupted_force(out: &Path) -> Result<(), OutputError> {
    let backup = backup_of(out);
    if !backup.is_dir() {
        return Ok(());
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, source }
    };
    if std::fs::symlink_metadata(out).is_ok() {
        std::fs::remove_dir_all(&backup).map_err(io(&backup))
    } else {
        std::fs::rename(&backup, out).map_err(io(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_refuses_escaping_paths() {
        let root = tempfile::tempdir().unwrap();
        let staging = Staging::new(&root.path().join("out"), false, &[]).unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            assert!(
                matches!(staging.resolve(bad), Err(OutputError::UnsafePath(_))),
                "{bad}"
            );
        }
        assert!(staging.resolve("notices/a.md").is_ok());
    }
}
