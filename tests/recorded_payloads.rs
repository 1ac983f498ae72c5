//! The recorded Salesforce payloads are optional for `cargo test` and required by CI: when
//! they are missing, the tests that read them are left out and counted; with
//! `SYNCDECK_REQUIRE_FIXTURES=1` (set by `.ci/run`) a missing folder fails.

mod recorded;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use recorded::resolve::{DEFAULT_RELATIVE, Fixtures, REQUIRE_ENV, locate};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Test files in which every test reads recorded payloads.
const ALL_RECORDED: [&str; 6] = [
    "client_fixtures.rs",
    "fields_cli.rs",
    "fields_flow.rs",
    "fields_screen.rs",
    "fields_truth.rs",
    "tui_fields_flow.rs",
];

fn test_sources() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(Path::new(REPO).join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn count_tests(source: &str) -> usize {
    source.matches("#[test]").count() + source.matches("#[tokio::test").count()
}

/// How many tests are left out without the payloads (each carries the marker once).
fn marked_tests() -> usize {
    test_sources()
        .iter()
        .filter(|(name, _)| name != "recorded_payloads.rs")
        .map(|(_, source)| source.matches(recorded::MARKER).count())
        .sum()
}

#[test]
fn recorded_payloads_present_or_reported() {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    match recorded::DIR {
        Some(dir) => {
            let describes = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{dir}: {e}"))
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("describe_"))
                .count();
            assert!(describes > 0, "{dir} holds no describe_*.json payloads");
        }
        None => {
            let found = locate(std::env::var_os(recorded::resolve::ENV), Path::new(REPO));
            let note = found
                .note(Some(marked_tests()))
                .unwrap_or_else(|| "note: the recorded payloads appeared after the build; run `cargo clean -p syncdeck` or set SYNCDECK_FIXTURES".into());
            assert!(!required, "{REQUIRE_ENV}=1 but {note}");
            eprintln!("{note}");
        }
    }
}

#[test]
fn every_test_of_a_recorded_payload_file_is_marked() {
    for (name, source) in test_sources() {
        if ALL_RECORDED.contains(&name.as_str()) {
            assert_eq!(
                source.matches(recorded::MARKER).count(),
                count_tests(&source),
                "{name}: every test reads recorded payloads, so each needs \
                 #[cfg_attr(not(syncdeck_fixtures), ignore = \"...\")]"
            );
        }
    }
    assert!(marked_tests() >= 40, "only {} marked tests", marked_tests());
}

fn repo_with_default_folder(present: bool) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    if present {
        std::fs::create_dir_all(repo.join(DEFAULT_RELATIVE)).unwrap();
    }
    (root, repo)
}

#[test]
fn without_the_folder_the_tests_are_left_out_and_counted() {
    let (_root, repo) = repo_with_default_folder(false);
    let found = locate(None, &repo);
    assert!(matches!(found, Fixtures::Absent { .. }), "{found:?}");
    let note = found.note(Some(52)).unwrap();
    assert!(
        note.contains("52 recorded-payload tests are left out"),
        "{note}"
    );
    assert!(
        note.contains("SYNCDECK_FIXTURES=/path/to/fixtures/salesforce"),
        "{note}"
    );
    // An empty variable is no variable.
    assert_eq!(locate(Some(OsString::new()), &repo), found);
}

#[test]
fn the_default_folder_beside_the_repository_is_used_when_present() {
    let (_root, repo) = repo_with_default_folder(true);
    let found = locate(None, &repo);
    assert_eq!(found, Fixtures::Found(repo.join(DEFAULT_RELATIVE)));
    assert_eq!(found.note(Some(52)), None);
}

#[test]
fn the_variable_wins_and_a_wrong_one_is_reported() {
    let (_root, repo) = repo_with_default_folder(true);
    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(
        locate(Some(elsewhere.path().into()), &repo),
        Fixtures::Found(elsewhere.path().to_path_buf())
    );
    let wrong = elsewhere.path().join("nope");
    let found = locate(Some(wrong.clone().into()), &repo);
    assert_eq!(found, Fixtures::NotAFolder(wrong));
    assert!(found.note(None).unwrap().contains("is not a folder"));
}
