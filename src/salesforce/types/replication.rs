//! `sobjects/{Object}/deleted/` and `.../updated/` (SALESFORCE-API.md §3.5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::model::parse_datetime;

fn sf_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse_datetime(&text).map_err(serde::de::Error::custom)
}

/// One entry of `deletedRecords`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeletedRecord {
    pub id: String,
    #[serde(rename = "deletedDate", deserialize_with = "sf_datetime")]
    pub deleted_date: DateTime<Utc>,
}

/// `GET sobjects/{Object}/deleted/?start=&end=`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeletedRecords {
    #[serde(rename = "deletedRecords", default)]
    pub deleted_records: Vec<DeletedRecord>,
    /// Nothing deleted before this instant can be listed any more (log purged or older
    /// than 15 days).
    #[serde(rename = "earliestDateAvailable", deserialize_with = "sf_datetime")]
    pub earliest_date_available: DateTime<Utc>,
    /// The next window starts here.
    #[serde(rename = "latestDateCovered", deserialize_with = "sf_datetime")]
    pub latest_date_covered: DateTime<Utc>,
}

/// `GET sobjects/{Object}/updated/?start=&end=`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UpdatedIds {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(rename = "latestDateCovered", deserialize_with = "sf_datetime")]
    pub latest_date_covered: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        not(syncdeck_fixtures),
        ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
    )]
    fn recorded_payloads_parse() {
        // Found by build.rs (the recorded payloads live outside this repository).
        let dir = option_env!("SYNCDECK_FIXTURES_DIR").unwrap_or_default();
        let deleted: DeletedRecords = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/sobject_deleted_restforce.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(deleted.deleted_records.len(), 1);
        assert_eq!(deleted.deleted_records[0].id, "a00D0000008pQRAIA2");
        assert_eq!(
            deleted.earliest_date_available.to_rfc3339(),
            "2013-05-03T15:57:00+00:00"
        );
        let updated: UpdatedIds = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/sobject_updated_restforce.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(updated.ids.len(), 7);
        assert_eq!(
            updated.latest_date_covered.to_rfc3339(),
            "2015-08-19T08:17:00+00:00"
        );
    }
}
