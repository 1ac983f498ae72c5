//! The real binary against a hostile or broken endpoint in front of a sandbox org: each
//! command must end with a clear error, never panic, keep its output small and its memory
//! bounded. (The 60 s limit is a hang guard, not a speed assertion.)

mod common;
mod hostile_support;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use hostile_support::Hostility;

/// Hang guard for one command.
const HANG_GUARD: Duration = Duration::from_secs(60);
/// Far above what any of these commands needs, far below what the unbounded reads took
/// (3 GiB for the gzip bomb, 537 MiB for the distinct-keys page).
const RSS_BOUND_KIB: u64 = 400 * 1024;
/// Output a failed command may print, 40 MB error messages included.
const OUTPUT_BOUND: usize = 64 * 1024;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// VmHWM of the child, last seen before it exited.
    peak_rss_kib: u64,
}

impl Outcome {
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Ended by itself with an error, no panic, small output, bounded memory.
    fn assert_clean_failure(&self, what: &str) {
        let text = self.text();
        assert!(!text.contains("panicked"), "{what}: {}", head(&text));
        assert_ne!(self.code, Some(101), "{what} panicked");
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "{what} should fail: {:?}: {}",
            self.code,
            head(&text)
        );
        assert!(
            text.len() < OUTPUT_BOUND,
            "{what} printed {} bytes: {}",
            text.len(),
            head(&text)
        );
        assert!(
            self.peak_rss_kib < RSS_BOUND_KIB,
            "{what} peaked at {} KiB",
            self.peak_rss_kib
        );
        eprintln!(
            "{what}: exit {:?}, peak RSS {} KiB",
            self.code, self.peak_rss_kib
        );
    }
}

fn head(text: &str) -> &str {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `syncdeck ARGS` to its end (off the runtime serving the org), watching its memory.
async fn run(org: &Org, args: &[&str]) -> Outcome {
    let mut cmd = syncdeck(org);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let args = args.join(" ");
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let pid = child.id();
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let started = Instant::now();
        let mut peak_rss_kib = 0;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if let Some(kib) = vm_hwm_kib(pid) {
                peak_rss_kib = peak_rss_kib.max(kib);
            }
            if started.elapsed() > HANG_GUARD {
                let _ = child.kill();
                panic!(
                    "`syncdeck {args}` still running after {HANG_GUARD:?} (peak RSS {peak_rss_kib} KiB)"
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Outcome {
            code: status.code(),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            peak_rss_kib,
        }
    })
    .await
    .unwrap()
}

/// A sandbox org with source "trial" (Account.Name) behind a hostile endpoint: its REST
/// calls go through it (connected), or for device flows its login does (not connected).
async fn behind(hostility: Hostility) -> Org {
    let org = org(sandbox_config(&[("Account", 50)])).await;
    let proxy = hostile_support::start(org.sandbox.base_url(), hostility).await;
    let mut source = manual(org.source("trial", &[("Account", &["Name"])]));
    if matches!(
        hostility,
        Hostility::DeviceFlowEndless | Hostility::DeviceFlowSlowDown
    ) {
        source.login_url = proxy;
        org.write_config(&config_of(vec![source]));
        return org;
    }
    org.write_config(&config_of(vec![source.clone()]));
    let mut creds = org.connect(&source).await;
    creds.instance_url = proxy;
    creds.save(&org.paths, "trial").unwrap();
    org
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_describe_global_is_refused_at_its_cap() {
    let org = behind(Hostility::OversizedDescribeGlobal).await;
    let out = run(&org, &["schema", "trial"]).await;
    out.assert_clean_failure("schema with a 200 MiB describeGlobal");
    assert!(
        out.stderr.contains("exceeded 32 MiB for describeGlobal"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_counted_after_decoding() {
    let org = behind(Hostility::GzipBombDescribeGlobal).await;
    let out = run(&org, &["schema", "trial"]).await;
    eprintln!(
        "gzip bomb: {} bytes on the wire, 512 MiB decoded",
        hostile_support::gzip_bomb_len()
    );
    out.assert_clean_failure("schema with a gzip-bomb describeGlobal");
    assert!(
        out.stderr.contains("exceeded 32 MiB for describeGlobal"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_thousands_of_distinct_keys_is_an_error_not_a_stall() {
    let org = behind(Hostility::DistinctKeysPage).await;
    let out = run(&org, &["sync", "trial"]).await;
    out.assert_clean_failure("sync with a 4000-distinct-key page");
    assert!(
        out.text()
            .contains("distinct fields, more than its query selected"),
        "{}",
        head(&out.text())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_error_message_is_cut_everywhere_it_shows() {
    // Under the 1 MiB error-body cap: parsed, its message cut to 2 KiB where it enters.
    let org = behind(Hostility::HugeErrorMessage(900_000)).await;
    let out = run(&org, &["sync", "trial"]).await;
    out.assert_clean_failure("sync with a 900 kB error message");
    assert!(
        out.text().contains("INVALID_FIELD"),
        "{}",
        head(&out.text())
    );
    assert!(out.text().contains("bytes cut)"), "{}", head(&out.text()));

    let status = run(&org, &["status", "--json"]).await;
    assert_eq!(status.code, Some(0), "{}", head(&status.stderr));
    assert!(
        status.stdout.len() < OUTPUT_BOUND,
        "status --json is {} bytes",
        status.stdout.len()
    );
    assert!(
        status.stdout.contains("bytes cut)"),
        "{}",
        head(&status.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_40_mb_error_message_is_read_no_further_than_1_mib() {
    let org = behind(Hostility::HugeErrorMessage(40_000_000)).await;
    let out = run(&org, &["sync", "trial"]).await;
    out.assert_clean_failure("sync with a 40 MB error message");
    assert!(
        out.text().contains("HTTP_400") && out.text().contains("exceeded 1 MiB"),
        "{}",
        head(&out.text())
    );
    let status = run(&org, &["status", "--json"]).await;
    assert_eq!(status.code, Some(0), "{}", head(&status.stderr));
    assert!(
        status.stdout.len() < OUTPUT_BOUND,
        "status --json is {} bytes",
        status.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maximal_retry_after_ends_the_retries_without_panicking() {
    let org = behind(Hostility::MaxRetryAfter).await;
    // `schema` retries with the client's default policy; `sync` through the engine's.
    for command in ["schema", "sync"] {
        let out = run(&org, &[command, "trial"]).await;
        out.assert_clean_failure(&format!("{command} with Retry-After: u64::MAX"));
        assert!(
            out.text().contains("SERVER_UNAVAILABLE"),
            "{}",
            head(&out.text())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_flow_that_never_expires_does_not_panic_auth() {
    let org = behind(Hostility::DeviceFlowEndless).await;
    let out = run(&org, &["auth", "trial"]).await;
    out.assert_clean_failure("auth with expires_in = u64::MAX");
    assert!(out.stdout.contains("HOSTILE1"), "{}", head(&out.text()));
    assert!(
        out.text().contains("access_denied"),
        "{}",
        head(&out.text())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_flow_with_a_maximal_interval_and_slow_downs_expires_cleanly() {
    let org = behind(Hostility::DeviceFlowSlowDown).await;
    let out = run(&org, &["auth", "trial"]).await;
    out.assert_clean_failure("auth with interval = u64::MAX and slow_down");
    assert!(
        out.text().to_lowercase().contains("expired"),
        "{}",
        head(&out.text())
    );
}
