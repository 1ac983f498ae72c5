//! Subcommand runners. Each returns the process exit code; `anyhow` stops here.

pub mod auth;
pub mod completions;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod fields;
mod fields_offline;
mod local_source;
pub mod sandbox;
pub mod schema;
pub mod status;
pub mod store;
pub mod sync;
pub mod tui;
pub mod verify;
