//! syncdeck: a terminal control panel for CRM data-source syncs.

pub mod cli;
pub mod config;
pub mod fields;
pub mod model;
pub mod notify;
pub mod remote;
pub mod salesforce;
pub mod sandbox;
pub mod sanitize;
pub mod store;
pub mod sync;
pub mod tui;
