//! One engine per data directory: an OS file lock (`flock`) on `engine.lock`.
//!
//! The kernel releases the lock when its holder exits, however it exits, so a leftover
//! file never blocks and two processes can never both hold it. The holder writes its PID
//! into the file only so that the loser's error can name it. The holder removes the file
//! on release while still holding the lock; a process that locked the file just before it
//! was removed notices (the path no longer names what it locked) and tries again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::config::flock::try_lock_exclusive;
use crate::config::private::{PRIVATE_FILE_MODE, create_private_dir_all};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another syncdeck process ({}) is already running the sync engine for this data directory ({path}); stop it first, or use its TUI/daemon",
        describe_holder(.pid)
    )]
    Held { pid: Option<u32>, path: PathBuf },
    #[error(
        "cannot create the engine lock {path}: {source}; check the data directory's permissions"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn describe_holder(pid: &Option<u32>) -> String {
    match pid {
        Some(pid) => format!("PID {pid}"),
        None => "PID not written yet".to_string(),
    }
}

/// Held while the engine runs; the kernel lock goes with the file handle.
#[derive(Debug)]
pub struct EngineLock {
    file: File,
    path: PathBuf,
}

/// How often a lock taken on a file that was removed meanwhile is retried.
const ATTEMPTS: usize = 5;

impl EngineLock {
    pub fn acquire(path: &Path) -> Result<EngineLock, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir_all(dir).map_err(io_err)?;
        }
        for _ in 0..ATTEMPTS {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(PRIVATE_FILE_MODE)
                .open(path)
                .map_err(io_err)?;
            if !try_lock_exclusive(&file).map_err(io_err)? {
                return Err(LockError::Held {
                    pid: read_pid(&mut file),
                    path: path.to_path_buf(),
                });
            }
            if !still_at(&file, path) {
                continue; // the previous holder removed it between our open and lock
            }
            file.set_len(0).map_err(io_err)?;
            file.rewind().map_err(io_err)?;
            writeln!(file, "{}", std::process::id()).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            return Ok(EngineLock {
                file,
                path: path.to_path_buf(),
            });
        }
        Err(LockError::Held {
            pid: None,
            path: path.to_path_buf(),
        })
    }
}

/// Whether `path` still names the file `file` has open.
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

impl Drop for EngineLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody can lock this file and find it gone later
        // without noticing (see `still_at`); the lock itself goes when `file` closes.
        if still_at(&self.file, &self.path) {
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
        assert!(matches!(err, LockError::Held { pid, .. } if pid == Some(std::process::id())));
        assert!(text.contains(&std::process::id().to_string()), "{text}");
        drop(lock);
        assert!(!path.exists());
        EngineLock::acquire(&path).unwrap();
    }

    #[test]
    fn a_leftover_file_naming_a_live_process_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.lock");
        // PID 1 is alive, but holds no lock on this file.
        fs::write(&path, "1\n").unwrap();
        let _lock = EngineLock::acquire(&path).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
    }

    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/engine.lock");
        let _lock = EngineLock::acquire(&path).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
}
