//! Where the recorded Salesforce payloads are. Shared by `build.rs` (which turns on
//! `cfg(syncdeck_fixtures)` for the tests when they are found) and by the tests themselves.
#![allow(dead_code)] // build.rs and each test binary use their own subset

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Names the folder of recorded payloads (`describe_*.json`, query pages, errors...).
pub const ENV: &str = "SYNCDECK_FIXTURES";
/// Set to 1 (CI does) to fail instead of leaving the recorded-payload tests out.
pub const REQUIRE_ENV: &str = "SYNCDECK_REQUIRE_FIXTURES";
/// The folder used when `SYNCDECK_FIXTURES` is not set, relative to the repository, if it exists.
pub const DEFAULT_RELATIVE: &str = "../shared/fixtures/salesforce";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixtures {
    /// The folder to read.
    Found(PathBuf),
    /// `SYNCDECK_FIXTURES` names something that is not a folder.
    NotAFolder(PathBuf),
    /// No `SYNCDECK_FIXTURES` and no folder at the default place.
    Absent { default: PathBuf },
}

/// `var`: the value of `SYNCDECK_FIXTURES`; `repo`: the repository root.
pub fn locate(var: Option<OsString>, repo: &Path) -> Fixtures {
    match var.filter(|v| !v.is_empty()) {
        Some(v) => {
            let dir = PathBuf::from(v);
            if dir.is_dir() {
                Fixtures::Found(dir)
            } else {
                Fixtures::NotAFolder(dir)
            }
        }
        None => {
            let dir = repo.join(DEFAULT_RELATIVE);
            if dir.is_dir() {
                Fixtures::Found(dir)
            } else {
                Fixtures::Absent { default: dir }
            }
        }
    }
}

impl Fixtures {
    /// What to tell the person running the tests when the payloads are not there.
    pub fn note(&self, left_out: Option<usize>) -> Option<String> {
        let why = match self {
            Fixtures::Found(_) => return None,
            Fixtures::NotAFolder(dir) => format!("{ENV}={} is not a folder", dir.display()),
            Fixtures::Absent { default } => {
                format!("{ENV} is not set and {} does not exist", default.display())
            }
        };
        let count = left_out.map_or_else(
            || "the tests that read them are".to_string(),
            |n| format!("{n} recorded-payload tests are"),
        );
        Some(format!(
            "note: recorded Salesforce payloads not found ({why}); {count} left out (shown as ignored). \
             Include them with {ENV}=/path/to/fixtures/salesforce cargo test"
        ))
    }
}
