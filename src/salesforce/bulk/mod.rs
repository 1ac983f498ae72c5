//! Bulk API 2.0 query reads (SALESFORCE-API.md §6): which fields a job selects and how its
//! CSV decodes into the pages a REST read yields (`shape`, `csv_rows`), and the job's wire
//! types (`job`). The calls themselves are `Client::bulk_*` (`client/bulk.rs`).

mod csv_rows;
pub(crate) mod job;
mod shape;

pub use super::client::bulk::{BulkPage, BulkPosition, DEFAULT_MAX_RECORDS};
pub use csv_rows::{CsvError, CsvPages, MAX_RECORD_BYTES, PAGE_ROWS};
pub use job::{BulkJob, JobState, PollPolicy};
pub use shape::{BulkShape, FieldFacts, Unsupported, ValueKind};
