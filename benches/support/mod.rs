//! What the benches share: the org they sync (`org`) and the `syncdeck sync` child process
//! they measure (`child`).
#![allow(dead_code)]

pub mod child;
pub mod org;

use syncdeck::config::SourceConfig;
use syncdeck::sandbox::SandboxHandle;

/// A manual source "bench" on `sandbox`, nothing selected yet.
pub fn bench_source(sandbox: &SandboxHandle) -> SourceConfig {
    org::source("bench", sandbox)
}
