use serde_json::{Map, Value};

pub use super::records::MAX_PAGE_FIELDS;
use super::records::{PageParts, parse_page};
use crate::model::Records;

/// A record as a map (small queries, and tests): the selected fields, explicit nulls.
pub type Record = Map<String, Value>;

/// One page of `query`/`queryAll`. `total_size` counts all pages; `next_records_url` is
/// absent on the last page and must be followed verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    pub total_size: u64,
    pub done: bool,
    pub records: Records,
    pub next_records_url: Option<String>,
}

impl QueryPage {
    /// Parse a query response body (records are kept compact, see [`Records`]), with at
    /// most [`MAX_PAGE_FIELDS`] distinct fields.
    pub fn from_json(body: Vec<u8>) -> Result<QueryPage, serde_json::Error> {
        QueryPage::from_json_bounded(body, MAX_PAGE_FIELDS)
    }

    /// Parse a page of a query that selected fewer than `max_fields` fields: a page with
    /// more distinct fields is an error, not unbounded growth.
    pub fn from_json_bounded(
        body: Vec<u8>,
        max_fields: usize,
    ) -> Result<QueryPage, serde_json::Error> {
        let PageParts {
            total_size,
            done,
            next_records_url,
            records,
        } = parse_page(body, max_fields)?;
        Ok(QueryPage {
            total_size,
            done,
            records,
            next_records_url,
        })
    }
}
