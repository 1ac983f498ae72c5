//! One engine per data directory: a lock file holding the owner's PID.
//!
//! Created with `create_new` so two processes cannot both win; a lock left by a process
//! that no longer exists (killed, crashed) is taken over. Liveness is checked through
//! `/proc/<pid>` (Linux, where syncdeck runs).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another syncdeck process (PID {pid}) is already running the sync engine for this data directory ({path}); stop it first, or use its TUI/daemon"
    )]
    Held { pid: u32, path: PathBuf },
    #[error(
        "cannot create the engine lock {path}: {source}; check the data directory's permissions"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Held while the engine runs; removed on drop.
#[derive(Debug)]
pub struct EngineLock {
    path: PathBuf,
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// The PID of the process holding the lock at `path`, if it is alive.
pub fn holder(path: &Path) -> Option<u32> {
    let pid = fs::read_to_string(path).ok()?.trim().parse::<u32>().ok()?;
    alive(pid).then_some(pid)
}

impl EngineLock {
    pub fn acquire(path: &Path) -> Result<EngineLock, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        for _ in 0..3 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(io_err)?;
                    f.sync_all().map_err(io_err)?;
                    return Ok(EngineLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if let Some(pid) = holder(path) {
                        return Err(LockError::Held {
                            pid,
                            path: path.to_path_buf(),
                        });
                    }
                    // Stale (or half-written by a process that just died): take it over.
                    match fs::remove_file(path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err(e)),
                    }
                }
                Err(e) => return Err(io_err(e)),
            }
        }
        Err(LockError::Held {
            pid: holder(path).unwrap_or(0),
            path: path.to_path_buf(),
        })
    }
}

impl Drop for EngineLock {
    fn drop(&mut self) {
        if holder(&self.path) == Some(std::process::id()) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_names_the_holder_and_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.lock");
        let lock = EngineLock::acquire(&path).unwrap();
        let err = EngineLock::acquire(&path).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LockError::Held { pid, .. } if pid == std::process::id()));
        assert!(text.contains(&std::process::id().to_string()), "{text}");
        drop(lock);
        assert!(!path.exists());
        EngineLock::acquire(&path).unwrap();
    }

    #[test]
    fn a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.lock");
        // PIDs are below 2^22 on Linux: this one cannot be alive.
        fs::write(&path, "4194305\n").unwrap();
        let _lock = EngineLock::acquire(&path).unwrap();
        assert_eq!(holder(&path), Some(std::process::id()));
    }
}
