//! The sync engine: per-source workers, scheduler, quota guard and status machine.

pub mod model;
pub mod schema;

pub use model::*;
pub mod clock;
pub mod projection;
pub mod quota;
pub mod scheduler;
pub mod status;
