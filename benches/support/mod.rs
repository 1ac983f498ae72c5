//! What the benches share: the source they sync and the summary line they read.
#![allow(dead_code)]

use syncdeck::config::{Frequency, SourceConfig};
use syncdeck::sandbox::SandboxHandle;

/// A manual source "bench" on `sandbox`, nothing selected yet.
pub fn bench_source(sandbox: &SandboxHandle) -> SourceConfig {
    SourceConfig {
        id: "bench".into(),
        name: "bench".into(),
        kind: Default::default(),
        login_url: sandbox.base_url(),
        client_id: sandbox.client_id(),
        api_version: None,
        sync_enabled: true,
        frequency: Frequency::Manual,
        quota_threshold_percent: 80,
        run_quota_percent: 100,
        formula_policy: syncdeck::config::FormulaPolicy::DailyReread,
        verify: syncdeck::config::VerifySchedule::Weekly,
        objects: Default::default(),
        store: None,
    }
}

/// The API calls of a `syncdeck sync` summary line ("…, 6 API calls, …").
pub fn api_calls(summary: &str) -> u64 {
    summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" API calls"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
