//! The types several parts of syncdeck share, at the bottom of the dependency graph: a page
//! of records as the client decodes it and the store writes it, the org schema, the
//! engine's `Command`s and `Snapshot`s, and the one parser of Salesforce datetimes.
//!
//! Plain data with no behaviour beyond reading itself: nothing here talks to the network,
//! the disk or the terminal, so the client, the store, the engine, the notifier, the remote
//! socket and the TUI can all depend on it without depending on each other. Its only import
//! from the crate is the configuration document (`config`'s data types), which a `Reload`
//! command carries and a snapshot describes; `config` in turn imports nothing of ours.

mod command;
mod datetime;
mod records;
mod schema;
mod snapshot;

pub use command::{AuthFlow, Command, WEB_FLOW_PORT};
pub use datetime::{BadDatetime, parse_datetime};
pub(crate) use records::Cell;
pub use records::{FieldValue, RecordRef, Records};
pub use schema::{FieldSchema, ObjectSchema, OrgSchema};
pub use snapshot::{
    ApiUsage, AuthPrompt, ConnectionInfo, ErrorInfo, ErrorKind, Event, EventLevel, FleetOwner,
    FrequencyProjection, HISTORY_RUNS, HistoryRun, ObjectCount, ObjectProgress, RunKind,
    RunOutcome, RunProgress, RunSummary, SkippedFields, Snapshot, SourceSnapshot, Status,
    VerifySummary,
};
