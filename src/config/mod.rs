//! Configuration: the TOML model, validation with line:col diagnostics, XDG paths, the
//! comment-preserving `Editor`, and the per-source credentials files.

mod atomic;
pub mod credentials;
mod editor;
pub mod example;
pub mod flock;
mod model;
mod paths;
pub mod private;
pub mod sfname;
mod validate;

pub use credentials::{Credentials, CredentialsError, Secret, TokenRefresh};
pub use editor::{EditError, Editor};
pub use example::{InitError, write_example};
pub use model::*;
pub use paths::{NoHomeDir, Paths};
pub use sfname::{is_valid_field_name, is_valid_object_name};
pub use validate::{
    ConfigError, Diagnostic, check_login_url, check_store_url, is_loopback_host, is_slug, load,
    parse_str, render_diagnostics,
};
