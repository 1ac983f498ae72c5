//! Configuration: the TOML model, validation with line:col diagnostics, XDG paths, and the
//! comment-preserving `Editor`.

mod model;
mod paths;

pub use model::*;
pub use paths::{NoHomeDir, Paths};
