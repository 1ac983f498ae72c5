//! The sync engine: per-source workers, scheduler, quota guard and status machine.

pub mod authorize;
pub mod clock;
pub mod connect;
pub mod delete_log;
pub mod describe_cache;
pub mod engine;
pub mod error;
pub mod history;
pub mod hooks;
pub mod lock;
pub mod object_sync;
pub mod page_feed;
pub mod projection;
pub mod quota;
pub mod run;
pub mod scheduler;
pub mod shared_store;
pub mod status;
pub mod stop;
pub mod supervise;
pub mod verify;
pub mod worker;

pub use engine::{Engine, EngineError, EngineHandle};
pub use error::SyncError;
