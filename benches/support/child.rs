//! A `syncdeck sync` child process measured from outside: wall time, CPU, and peak and
//! sampled RSS from /proc (the sandbox stays in the bench process, so the numbers are the
//! sync's own).

#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use syncdeck::config::Paths;

pub fn rss_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds of a process so far, from /proc.
pub fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, the 12th and 13th after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

pub struct ChildRun {
    pub secs: f64,
    /// CPU seconds of the sync process (last sample before it exited).
    pub cpu: f64,
    /// CPU seconds of this process (the sandbox) during the run.
    pub sandbox_cpu: f64,
    pub summary: String,
    pub peak_kib: u64,
    /// VmRSS samples over the run, for flatness.
    pub rss_kib: Vec<u64>,
}

pub fn run_sync(paths: &Paths, source: &str, full: bool) -> ChildRun {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncdeck"));
    cmd.arg("--config")
        .arg(&paths.config_file)
        .arg("--data-dir")
        .arg(&paths.data_dir)
        .args(["sync", source])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if full {
        cmd.arg("--full");
    }
    let started = Instant::now();
    let sandbox_before = cpu_secs("self");
    let mut child = cmd.spawn().expect("spawn syncdeck sync");
    let pid = child.id();
    let (mut peak, mut samples, mut cpu) = (0, Vec::new(), 0.0);
    while child.try_wait().expect("wait").is_none() {
        cpu = f64::max(cpu, cpu_secs(&pid.to_string()));
        if let Some(hwm) = rss_kib(pid, "VmHWM:") {
            peak = peak.max(hwm);
        }
        if let Some(rss) = rss_kib(pid, "VmRSS:") {
            samples.push(rss);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let sandbox_cpu = cpu_secs("self") - sandbox_before;
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "sync failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    ChildRun {
        secs: started.elapsed().as_secs_f64(),
        cpu,
        sandbox_cpu,
        summary: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        peak_kib: peak,
        rss_kib: samples,
    }
}

pub fn api_calls(summary: &str) -> u64 {
    summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" API calls"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
