//! The dependency arrows docs/ARCHITECTURE.md forbids, checked on the source: the UI never
//! reaches the client, the engine never reaches the UI, the store never reaches the client,
//! and the sandbox and the client never reach each other.

use std::path::Path;

/// Every non-comment line of every `.rs` file under `src/<module>`, with its file.
fn code_lines(module: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(module),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    out.push((path.display().to_string(), line.to_string()));
                }
            }
        }
    }
    assert!(!out.is_empty(), "no source under src/{module}");
    out
}

fn assert_never(module: &str, forbidden: &str, why: &str) {
    let offending: Vec<String> = code_lines(module)
        .into_iter()
        .filter(|(_, line)| line.contains(forbidden))
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(offending.is_empty(), "{why}:\n{}", offending.join("\n"));
}

#[test]
fn the_ui_never_reaches_the_client() {
    assert_never("tui", "crate::salesforce", "tui imports salesforce");
}

#[test]
fn the_engine_never_reaches_the_ui() {
    assert_never("sync", "crate::tui", "sync imports tui");
}

#[test]
fn the_store_uses_only_the_wire_value_types() {
    let offending: Vec<String> = code_lines("store")
        .into_iter()
        .filter(|(_, line)| {
            line.match_indices("crate::salesforce")
                .any(|(at, _)| !line[at..].starts_with("crate::salesforce::types"))
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "store reaches the client:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_sandbox_and_the_client_never_meet() {
    assert_never("sandbox", "crate::salesforce", "sandbox imports salesforce");
    assert_never("salesforce", "crate::sandbox", "salesforce imports sandbox");
}
