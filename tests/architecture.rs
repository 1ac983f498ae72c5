//! The dependency arrows docs/ARCHITECTURE.md forbids, checked on the source: the model and
//! the configuration are the bottom, the UI never reaches the client or the store, the
//! engine never reaches the UI, the store never reaches the client or the engine, notify
//! and fields never reach the engine, and the sandbox and the client never reach each other.

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

/// The crate modules a module names (`crate::sync::…` → `sync`), each with a line that
/// names it. `use crate::{a, b}` would hide names from this, so it is refused outright.
fn imports(module: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (file, line) in code_lines(module) {
        assert!(
            !line.contains("crate::{"),
            "{file}: name each module in its own path (`crate::a::…`), not `crate::{{…}}`: {}",
            line.trim()
        );
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module {
                out.push((name, file.clone(), line.trim().to_string()));
            }
        }
    }
    out
}

/// `module` names none of `forbidden`.
fn assert_never(module: &str, forbidden: &[&str], why: &str) {
    let offending: Vec<String> = imports(module)
        .into_iter()
        .filter(|(name, _, _)| forbidden.contains(&name.as_str()))
        .map(|(_, file, line)| format!("{file}: {line}"))
        .collect();
    assert!(offending.is_empty(), "{why}:\n{}", offending.join("\n"));
}

/// `module` names nothing of ours but `allowed`.
fn assert_only(module: &str, allowed: &[&str], why: &str) {
    let offending: Vec<String> = imports(module)
        .into_iter()
        .filter(|(name, _, _)| !allowed.contains(&name.as_str()))
        .map(|(_, file, line)| format!("{file}: {line}"))
        .collect();
    assert!(offending.is_empty(), "{why}:\n{}", offending.join("\n"));
}

#[test]
fn the_model_and_the_configuration_are_the_bottom() {
    assert_only(
        "model",
        &["config"],
        "model imports something of ours beyond the configuration's data types",
    );
    assert_only("config", &[], "config imports something of ours");
}

#[test]
fn the_ui_never_reaches_the_client_or_the_store() {
    assert_never(
        "tui",
        &["salesforce", "store"],
        "tui imports the client or the store",
    );
}

#[test]
fn the_engine_never_reaches_the_ui() {
    assert_never("sync", &["tui"], "sync imports tui");
}

#[test]
fn the_store_never_reaches_the_client_or_the_engine() {
    assert_never(
        "store",
        &["salesforce", "sync"],
        "store imports the client or the engine",
    );
}

#[test]
fn notify_and_fields_never_reach_the_engine() {
    assert_never("notify", &["sync"], "notify imports sync");
    assert_never("fields", &["sync"], "fields imports sync");
}

#[test]
fn fields_reach_the_client_only_for_query_planning() {
    let offending: Vec<String> = code_lines("fields")
        .into_iter()
        .filter(|(_, line)| {
            line.match_indices("crate::salesforce").any(|(at, _)| {
                let rest = &line[at..];
                !rest.starts_with("crate::salesforce::read_plan")
                    && !rest.starts_with("crate::salesforce::soql")
            })
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "fields reach the client beyond its pure query planning:\n{}",
        offending.join("\n")
    );
}

/// `crate::sync::engine::Engine` names an internal module of the engine; exported items
/// (`crate::sync::Engine`, `crate::sync::{…}`) are followed by no further `::`.
fn reaches_into_the_engine(line: &str) -> bool {
    line.match_indices("crate::sync::").any(|(at, _)| {
        let rest = &line[at + "crate::sync::".len()..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        name_len > 0 && rest[name_len..].starts_with("::")
    })
}

#[test]
fn commands_and_the_socket_reach_the_engine_only_through_its_exports() {
    assert!(reaches_into_the_engine("use crate::sync::run::RunSpec;"));
    assert!(!reaches_into_the_engine(
        "use crate::sync::{Engine, RunSpec};"
    ));
    assert!(!reaches_into_the_engine(
        "crate::sync::resume_text(at, now)"
    ));
    for module in ["cli", "remote"] {
        let offending: Vec<String> = code_lines(module)
            .into_iter()
            .filter(|(_, line)| reaches_into_the_engine(line))
            .map(|(file, line)| format!("{file}: {}", line.trim()))
            .collect();
        assert!(
            offending.is_empty(),
            "{module} reaches into the engine's modules instead of `sync`'s exports:\n{}",
            offending.join("\n")
        );
    }
}

#[test]
fn the_sandbox_and_the_client_never_meet() {
    assert_never("sandbox", &["salesforce"], "sandbox imports salesforce");
    assert_never("salesforce", &["sandbox"], "salesforce imports sandbox");
}
