//! What the benches share: the org they sync (`org`) and the `syncdeck sync` child process
//! they measure (`child`).
#![allow(dead_code)]

pub mod child;
pub mod org;

use syncdeck::config::{Paths, SourceConfig};
use syncdeck::sandbox::SandboxHandle;

/// A two-thread runtime with rustls' crypto provider installed, as the binary starts.
pub fn runtime() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A config file and data directory in a fresh temporary folder, removed when the returned
/// guard drops.
pub fn scratch_paths() -> (tempfile::TempDir, Paths) {
    let root = tempfile::tempdir().unwrap();
    let paths = Paths::resolve(
        Some(root.path().join("config.toml")),
        Some(root.path().join("data")),
    )
    .unwrap();
    (root, paths)
}

/// A manual source "bench" on `sandbox`, nothing selected yet.
pub fn bench_source(sandbox: &SandboxHandle) -> SourceConfig {
    org::source("bench", sandbox)
}
