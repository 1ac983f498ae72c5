//! Response bodies read as a stream under a size cap, counted after gzip decoding, so
//! neither an oversized body nor a small gzip bomb can take the process's memory.
//!
//! Caps by endpoint class (after decoding):
//! - OAuth, identity, versions, limits, record counts and every error body: 1 MiB;
//! - one object's describe and describeGlobal: 32 MiB;
//! - up to 25 describes in one composite call, and one query page:
//!   64 MiB;
//! - a composite call of up to five query pages: five query pages' caps, 320 MiB.
//!
//! A success body over its cap is [`Error::BadResponse`] (not retried: the same request
//! gets the same answer). An error body over 1 MiB keeps its first 1 MiB, enough for the
//! error code, and is classified by its status as usual.

use super::errors::{Error, Fault};

const MIB: usize = 1 << 20;

/// Which cap applies to a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyClass {
    /// OAuth, identity, versions, limits, record counts, error bodies.
    Small,
    /// One describe, or describeGlobal.
    Describe,
    /// Up to 25 describes in one composite call.
    Batch,
    /// Up to five query pages in one composite call.
    CompositePages,
    /// One page of query results.
    QueryPage,
    /// A delete log or changed-Ids window (`sobjects/X/deleted/`, `updated/`): at most
    /// 600 000 ids (Salesforce's cap) at about 75 bytes each, with room to spare.
    Replication,
}

impl BodyClass {
    pub const fn cap(self) -> usize {
        match self {
            BodyClass::Small => MIB,
            BodyClass::Describe => 32 * MIB,
            BodyClass::Batch | BodyClass::QueryPage | BodyClass::Replication => 64 * MIB,
            BodyClass::CompositePages => 5 * 64 * MIB,
        }
    }
}

/// What was read of a body: all of it, or the first `cap` bytes of a longer one.
#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub complete: bool,
}

/// Read at most `cap` bytes of decoded body; reading stops (and the connection is dropped)
/// as soon as the body proves longer.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Body, reqwest::Error> {
    // A declared length is only a hint (it is the encoded length under gzip).
    let hint = response
        .content_length()
        .map_or(0, |n| usize::try_from(n).unwrap_or(cap).min(cap));
    let mut bytes = Vec::with_capacity(hint);
    while let Some(chunk) = response.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Body {
                bytes,
                complete: false,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes,
        complete: true,
    })
}

/// The error for a success body over its cap.
pub fn too_large(cap: usize, endpoint: &str) -> Error {
    Error::BadResponse {
        fault: Fault::new(
            None,
            "RESPONSE_TOO_LARGE",
            format!(
                "the response from Salesforce exceeded {} MiB for {endpoint}; syncdeck stopped reading it. Deselect the object if one object's data is this large, otherwise the endpoint is misbehaving",
                cap / MIB
            ),
        ),
    }
}

/// The body of an error response, noting when only its start was kept.
pub fn error_text(body: &Body) -> Vec<u8> {
    if body.complete {
        return body.bytes.clone();
    }
    let mut text = body.bytes.clone();
    text.extend_from_slice(
        format!(
            " … (error response longer than {} MiB; the rest was not read)",
            BodyClass::Small.cap() / MIB
        )
        .as_bytes(),
    );
    text
}

/// The fault of a REST error response: Salesforce's code and message, or for a body over
/// the cap (no longer parseable) its status and its start.
pub fn error_fault(status: u16, body: &Body) -> Fault {
    if body.complete {
        return Fault::from_rest_body(status, &body.bytes);
    }
    let start = String::from_utf8_lossy(&body.bytes[..body.bytes.len().min(300)]).into_owned();
    Fault::new(
        Some(status),
        format!("HTTP_{status}"),
        format!(
            "the error response exceeded {} MiB and was not read further; it starts with: {start}",
            BodyClass::Small.cap() / MIB
        ),
    )
}

/// A complete success body that does not parse: cut short (retry may help) or malformed
/// (it will not).
pub fn unparsable(status: u16, endpoint: &str, e: &serde_json::Error) -> Error {
    if e.is_eof() {
        return Error::retryable(Fault::new(
            Some(status),
            "TRUNCATED_BODY",
            format!("the response for {endpoint} ended early ({e})"),
        ));
    }
    Error::BadResponse {
        fault: Fault::new(
            Some(status),
            "MALFORMED_BODY",
            format!("the response for {endpoint} is not the JSON expected ({e})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::ErrorClass;

    #[test]
    fn caps_grow_with_what_an_endpoint_can_legitimately_send() {
        assert_eq!(BodyClass::Small.cap(), MIB);
        assert!(BodyClass::Describe.cap() > BodyClass::Small.cap());
        assert!(BodyClass::QueryPage.cap() >= BodyClass::Describe.cap());
    }

    #[test]
    fn over_cap_and_malformed_are_not_retried_but_a_cut_body_is() {
        let big = too_large(BodyClass::Describe.cap(), "describeGlobal");
        assert_eq!(big.class(), ErrorClass::Fatal);
        assert!(
            big.to_string()
                .contains("exceeded 32 MiB for describeGlobal"),
            "{big}"
        );
        let cut = serde_json::from_slice::<serde_json::Value>(b"{\"a\": [1, 2").unwrap_err();
        assert_eq!(unparsable(200, "x", &cut).class(), ErrorClass::Retryable);
        let bad = serde_json::from_slice::<serde_json::Value>(b"{\"a\": ]").unwrap_err();
        assert_eq!(unparsable(200, "x", &bad).class(), ErrorClass::Fatal);
    }

    #[test]
    fn a_cut_error_body_says_so() {
        let body = Body {
            bytes: b"[{\"message\":\"x".to_vec(),
            complete: false,
        };
        let text = String::from_utf8(error_text(&body)).unwrap();
        assert!(text.ends_with("the rest was not read)"), "{text}");
        let fault = error_fault(400, &body);
        assert_eq!(fault.code, "HTTP_400");
        assert!(fault.message.contains("exceeded 1 MiB"), "{fault}");
        let whole = Body {
            bytes: br#"[{"message":"no","errorCode":"INVALID_FIELD"}]"#.to_vec(),
            complete: true,
        };
        assert_eq!(error_fault(400, &whole).code, "INVALID_FIELD");
    }
}
