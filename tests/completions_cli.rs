//! `syncdeck completions SHELL` and `syncdeck man` through the built binary: generated from
//! the CLI definition, so they name every subcommand.

use std::process::{Command, Output};

fn syncdeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .args(args)
        .output()
        .unwrap()
}

const SUBCOMMANDS: [&str; 10] = [
    "config", "fields", "auth", "schema", "sync", "daemon", "status", "sandbox", "demo", "man",
];

#[test]
fn completion_scripts_name_every_subcommand_in_each_shells_syntax() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef syncdeck"),
        ("fish", "complete -c syncdeck"),
    ] {
        let out = syncdeck(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        // Nested subcommands and flags are completed too.
        assert!(script.contains("init"), "{shell}");
        assert!(script.contains("schema-dir"), "{shell}");
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let out = syncdeck(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash") && err.contains("fish"), "{err}");
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let out = syncdeck(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH syncdeck"),
        "{page}"
    );
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    assert!(page.contains("\\-\\-data\\-dir"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("syncdeck\\-{sub}")),
            "man page lacks {sub}"
        );
    }
}
