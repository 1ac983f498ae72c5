//! The sync engine: per-source workers, scheduler, quota guard and status machine.
//!
//! Front ends (the TUI, the daemon, `syncdeck sync`, `verify`, `schema`, `fields`,
//! `status`) use what this module exports and nothing deeper: the running engine
//! (`Engine`, `EngineHandle`, speaking `model::Command` and `model::Snapshot`), one source
//! worked on in this process while no daemon runs (`LocalSource`), a source's snapshot read
//! from its files (`stored_snapshot`), the clock, interactive authorization and the engine
//! lock. The submodules are the engine's own.

pub(crate) mod authorize;
pub(crate) mod bulk_read;
pub(crate) mod clock;
pub(crate) mod connect;
pub(crate) mod delete_log;
pub(crate) mod describe_cache;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod fleet;
pub(crate) mod grouped_read;
pub(crate) mod history;
pub(crate) mod hooks;
pub(crate) mod local;
pub(crate) mod lock;
pub(crate) mod object_sync;
pub(crate) mod page_feed;
pub(crate) mod projection;
pub(crate) mod quota;
pub(crate) mod record_counts;
pub(crate) mod run;
pub(crate) mod scheduler;
pub(crate) mod shared_store;
pub(crate) mod sliced_read;
pub(crate) mod status;
pub(crate) mod stop;
pub(crate) mod stored;
pub(crate) mod supervise;
pub(crate) mod verify;
pub(crate) mod verify_scan;
pub(crate) mod worker;

pub use authorize::authorize;
pub use clock::{Clock, ManualClock, SharedClock, Sleep, SystemClock};
pub use connect::client_for;
// The describes a run makes (the composite-calls benchmark counts them through this).
pub use describe_cache::describes;
pub use engine::{Engine, EngineError, EngineHandle};
pub use error::SyncError;
pub use local::{LocalError, LocalSource};
pub use lock::{EngineLock, LockError};
pub use object_sync::ObjectOutcome;
pub use quota::{QuotaStop, resume_text};
pub use run::{RunObserver, RunReport, RunSpec, kind_label};
pub use shared_store::SharedStore;
pub use stop::{StopReason, StopSignal};
pub use stored::stored_snapshot;
pub use verify::{ObjectReport, VerifyObserver, VerifyReport, VerifySpec};
