//! syncdeck: a terminal control panel for CRM data-source syncs.

pub mod cli;
pub mod config;
pub mod fields;
pub mod notify;
pub mod remote;
pub mod sanitize;
pub mod salesforce;
pub mod sandbox;
pub mod store;
pub mod sync;
pub mod tui;
