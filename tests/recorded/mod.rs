//! The recorded Salesforce payloads, for the tests that compare against them. They live
//! outside this repository: `SYNCDECK_FIXTURES=DIR`, else `../shared/fixtures/salesforce`
//! when it exists (see `build.rs`). Tests that read them carry
//! `#[cfg_attr(not(syncdeck_fixtures), ignore = "...")]`, so without them `cargo test`
//! passes and lists them as ignored.
#![allow(dead_code)]

#[path = "resolve.rs"]
pub mod resolve;

use std::path::PathBuf;

/// Part of the attribute every recorded-payload test carries (counted by
/// `recorded_payloads.rs`; rustfmt may spread the attribute over lines).
pub const MARKER: &str = "not(syncdeck_fixtures),";

/// The folder found at build time; a test reaching this without it was not marked.
pub const DIR: Option<&str> = option_env!("SYNCDECK_FIXTURES_DIR");

pub fn dir() -> PathBuf {
    match DIR {
        Some(dir) => PathBuf::from(dir),
        None => panic!(
            "this test reads recorded payloads, which were not found: set SYNCDECK_FIXTURES=<dir>, \
             and mark the test #[cfg_attr(not(syncdeck_fixtures), ignore = \"recorded payloads: set SYNCDECK_FIXTURES=<dir>\")]"
        ),
    }
}

/// One recorded payload's path.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}
