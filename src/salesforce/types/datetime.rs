//! SOQL datetime literals are `2022-03-17T16:21:26Z`, unquoted. (Reading the wire form is
//! `model::parse_datetime`.)

use chrono::{DateTime, SecondsFormat, Utc};

/// A SOQL datetime literal. Milliseconds are kept so a `>=` cursor never skips a record
/// that shares the second of the last one seen.
pub fn format_soql_datetime(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_datetime;

    #[test]
    fn soql_literal_is_utc_with_millis() {
        let at = parse_datetime("2024-01-02T03:04:05.678+0000").unwrap();
        assert_eq!(format_soql_datetime(at), "2024-01-02T03:04:05.678Z");
    }
}
