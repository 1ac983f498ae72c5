//! Drives the real `syncdeck` binary in a detached tmux session (80×24) on a private
//! tmux server, killed on drop even when the test fails.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Generous bound for slow CI machines: a hang guard, not a timing assertion.
pub const WAIT: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(250);

/// Whether tmux can be used; `None` means skip (printed), panics in CI.
pub fn tmux_available(test: &str) -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: tmux is required in CI (.ci/run installs it)");
    }
    eprintln!("{test}: skipped, tmux is not installed");
    false
}

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Start `command` (a shell command line) in a new 80×24 session on a private server.
    pub fn start(name: &str, command: &str, cwd: &Path) -> Tmux {
        let tmux = Tmux {
            socket: format!("syncdeck-{name}-{}", std::process::id()),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-c",
            &cwd.to_string_lossy(),
            command,
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        // Keep the pane after the program exits so a crash stays readable.
        tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Send tmux key names ("Tab", "Enter", "s", "Space"), one at a time so an Escape is
    /// never merged with the next key into an Alt chord.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", key]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Poll the screen until `pred` holds; panics with the last screen after `WAIT`.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether the program in the pane has exited.
    pub fn pane_dead(&self) -> bool {
        let out = self.run(&["display-message", "-p", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The line of the table that names `source`.
pub fn row<'a>(screen: &'a str, source: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(source))
}
