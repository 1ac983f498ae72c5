//! Finds the recorded Salesforce payloads the tests compare against (outside this
//! repository): with them, `cfg(syncdeck_fixtures)` is on and `SYNCDECK_FIXTURES_DIR` names
//! them; without, the tests that read them are ignored and this says so. The product
//! itself never reads them. Also says so when no PostgreSQL test server is named (those
//! tests then return early; see `store::postgres::testing`).

#[path = "tests/recorded/resolve.rs"]
mod resolve;

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=tests/recorded/resolve.rs");
    println!("cargo::rerun-if-env-changed={}", resolve::ENV);
    println!("cargo::rustc-check-cfg=cfg(syncdeck_fixtures)");
    let repo = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let found = resolve::locate(std::env::var_os(resolve::ENV), Path::new(&repo));
    println!("cargo::rerun-if-env-changed=SYNCDECK_TEST_POSTGRES_URL");
    if std::env::var_os("SYNCDECK_TEST_POSTGRES_URL").is_none_or(|v| v.is_empty()) {
        println!(
            "cargo::warning=the PostgreSQL store tests are left out: set SYNCDECK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to include them"
        );
    }
    match &found {
        resolve::Fixtures::Found(dir) => {
            let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            println!("cargo::rustc-cfg=syncdeck_fixtures");
            println!("cargo::rustc-env=SYNCDECK_FIXTURES_DIR={}", dir.display());
        }
        _ => {
            if let Some(note) = found.note(None) {
                println!("cargo::warning={note}");
            }
        }
    }
}
