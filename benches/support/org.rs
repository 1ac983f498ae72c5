//! The benches' org: a sandbox on loopback with `records` Accounts, a manual source for it,
//! and the Account fields a sync selects.

#![allow(dead_code)]

use std::time::Duration;

use syncdeck::config::{Frequency, SourceConfig};
use syncdeck::salesforce::types::Describe;
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle};

/// `BENCH_RECORDS`, else `default`.
pub fn records(default: u64) -> u64 {
    std::env::var("BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub async fn account_sandbox(records: u64) -> SandboxHandle {
    Sandbox::start(SandboxConfig {
        records: [("Account".to_string(), records)].into_iter().collect(),
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::ZERO,
        api_max: 10_000_000,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// A manual source `id` for the sandbox, no objects selected yet.
pub fn source(id: &str, sandbox: &SandboxHandle) -> SourceConfig {
    SourceConfig {
        id: id.into(),
        name: id.into(),
        kind: Default::default(),
        login_url: sandbox.base_url(),
        client_id: sandbox.client_id(),
        api_version: None,
        sync_enabled: true,
        frequency: Frequency::Manual,
        quota_threshold_percent: 80,
        run_quota_percent: 100,
        formula_policy: syncdeck::config::FormulaPolicy::DailyReread,
        query_cursors: syncdeck::config::defaults::QUERY_CURSORS,
        verify: syncdeck::config::VerifySchedule::Weekly,
        // REST unless a bench turns Bulk on, so the REST numbers stay comparable.
        bulk_threshold: 0,
        objects: Default::default(),
        store: None,
    }
}

/// Every scalar field a sync would pick (compound parents are read as components), the
/// first `BENCH_FIELDS` (else `default`) of them.
pub fn scalar_fields(describe: &Describe, default: usize) -> Vec<String> {
    describe
        .fields
        .iter()
        .filter(|f| {
            !f.is_compound() && !matches!(f.name.as_str(), "Id" | "SystemModstamp" | "IsDeleted")
        })
        .map(|f| f.name.clone())
        .take(
            std::env::var("BENCH_FIELDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
        .collect()
}
