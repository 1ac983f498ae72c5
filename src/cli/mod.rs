//! Subcommand runners. Each returns the process exit code; `anyhow` stops here.

pub mod config;
pub mod daemon;
pub mod sandbox;
pub mod status;
pub mod sync;
