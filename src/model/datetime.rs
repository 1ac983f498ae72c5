//! Salesforce writes datetimes as `2022-03-17T16:21:26.000+0000` (no colon in the offset),
//! which is not RFC 3339. The one parser of that form: the client's replication answers,
//! the run's cursors and the store's datetime columns all read it here.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a Salesforce datetime (expected e.g. 2022-03-17T16:21:26.000+0000)")]
pub struct BadDatetime(pub String);

/// Parse the wire form, also accepting RFC 3339 (`Z` or `+00:00`) as written by Bulk API.
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>, BadDatetime> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .map(|dt| dt.with_timezone(&Utc))
        .map_err(|_| BadDatetime(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_wire_form_and_rfc3339() {
        let want = Utc.with_ymd_and_hms(2022, 3, 17, 16, 21, 26).unwrap();
        assert_eq!(
            parse_datetime("2022-03-17T16:21:26.000+0000").unwrap(),
            want
        );
        assert_eq!(parse_datetime("2022-03-17T16:21:26.000Z").unwrap(), want);
        assert_eq!(parse_datetime("2022-03-17T18:21:26+02:00").unwrap(), want);
        assert!(parse_datetime("2022-03-17").is_err());
        assert!(parse_datetime("yesterday").is_err());
    }
}
