//! Everything syncdeck creates is private to its user: directories 0700, files 0600.
//!
//! The binary sets the process umask to 077 before anything else, so every file and
//! directory it creates (stores and their SQLite -wal/-shm, the log, the lock, the socket,
//! credentials) starts private, whichever command runs first and whatever creates it
//! (SQLite and tracing-appender open files themselves). The helpers here give the same
//! result without relying on the umask, for the files the library creates itself.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const PRIVATE_DIR_MODE: u32 = 0o700;
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Make every file and directory this process creates from now on private (umask 077).
/// std has no umask; rustix (already in the tree through crossterm) wraps the syscall.
pub fn restrict_new_files() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// `create_dir_all` whose new directories are 0700 (existing ones are left as they are).
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(path)
}

/// Creates `path` empty with mode 0600 when it does not exist yet, so a library that opens
/// it later (SQLite) finds a private file; SQLite gives its -wal and -shm files the mode of
/// the database file.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE_MODE)
        .open(path)
    {
        Ok(f) => f.set_permissions(fs::Permissions::from_mode(PRIVATE_FILE_MODE)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_dirs_and_files_are_private_and_existing_files_are_kept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir_all(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("store.sqlite3");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        fs::write(&file, b"kept").unwrap();
        create_private_file(&file).unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"kept");
    }
}
