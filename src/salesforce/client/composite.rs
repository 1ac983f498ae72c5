//! `POST /composite`: up to 25 subrequests, at most five of them query operations, billed
//! as ONE API call (SALESFORCE-API.md §2.4). Each subrequest gets its own result, so a
//! failure stays with the object it belongs to; the call itself fails only as a whole
//! (transport, 401, quota, a refused request), and is retried like any other call.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Call, Client, Described, QueryOptions, page_field_limit, soql_error};
use crate::salesforce::body::{self, BodyClass};
use crate::salesforce::errors::Error;
use crate::salesforce::soql::{Soql, validate_object};
use crate::salesforce::types::{CompositeResponse, CompositeResult, Describe, QueryPage};

/// Subrequests per composite call (Salesforce's limit).
pub const COMPOSITE_LIMIT: usize = 25;
/// Query operations (`query`, `queryAll`, their next pages) per composite call.
pub const COMPOSITE_QUERY_LIMIT: usize = 5;

/// One query page to fetch inside a composite call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// The first page of `soql`.
    First { soql: Soql, options: QueryOptions },
    /// The page at a previous page's `nextRecordsUrl` (verbatim) of `soql`.
    More {
        url: String,
        soql: Soql,
        options: QueryOptions,
    },
}

impl PageRequest {
    fn soql(&self) -> &Soql {
        match self {
            PageRequest::First { soql, .. } | PageRequest::More { soql, .. } => soql,
        }
    }

    fn options(&self) -> QueryOptions {
        match self {
            PageRequest::First { options, .. } | PageRequest::More { options, .. } => *options,
        }
    }
}

/// One describe to fetch, revalidated with `If-Modified-Since` when a copy is cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeRequest {
    pub object: String,
    pub if_modified_since: Option<DateTime<Utc>>,
}

impl Client {
    /// Up to five query pages in one call. The answer has one result per request, in order.
    pub async fn composite_pages(
        &self,
        requests: &[PageRequest],
    ) -> Result<Vec<Result<QueryPage, Error>>, Error> {
        if requests.is_empty() || requests.len() > COMPOSITE_QUERY_LIMIT {
            return Err(Error::fatal(
                "COMPOSITE_LIMIT",
                format!(
                    "a composite call carries 1 to {COMPOSITE_QUERY_LIMIT} query pages, not {}",
                    requests.len()
                ),
            ));
        }
        let mut subrequests = Vec::with_capacity(requests.len());
        for request in requests {
            let url = match request {
                PageRequest::First { soql, options } => {
                    let q: String =
                        url::form_urlencoded::byte_serialize(soql.as_str().as_bytes()).collect();
                    format!("{}?q={q}", self.data_path(query_resource(*options)))
                }
                PageRequest::More { url, .. } if url.starts_with('/') => url.clone(),
                PageRequest::More { url, .. } => {
                    return Err(Error::fatal(
                        "BAD_RESPONSE",
                        format!("nextRecordsUrl \"{url}\" is not a path on the instance"),
                    ));
                }
            };
            let mut sub = json!({"method": "GET", "url": url});
            if let Some(n) = request.options().batch_size {
                sub["httpHeaders"] = json!({"Sforce-Query-Options": format!("batchSize={n}")});
            }
            subrequests.push(sub);
        }
        let results = self
            .composite(
                subrequests,
                BodyClass::CompositePages,
                "a composite call of query pages",
            )
            .await?;
        Ok(requests
            .iter()
            .zip(results)
            .map(|(request, result)| page_result(request, result))
            .collect())
    }

    /// Describe objects through composite, 25 per call, each call counted once. Objects
    /// with a cached copy are revalidated (`If-Modified-Since`; unchanged is
    /// `Described::NotModified`). Each object gets its own result.
    pub async fn describe_composite(
        &self,
        requests: &[DescribeRequest],
    ) -> Result<Vec<(String, Result<Described, Error>)>, Error> {
        for request in requests {
            validate_object(&request.object).map_err(soql_error)?;
        }
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(COMPOSITE_LIMIT) {
            let subrequests = chunk
                .iter()
                .map(|r| {
                    let url = self.data_path(&format!("sobjects/{}/describe", r.object));
                    let mut sub = json!({"method": "GET", "url": url});
                    if let Some(at) = r.if_modified_since {
                        let since = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                        sub["httpHeaders"] = json!({"If-Modified-Since": since});
                    }
                    sub
                })
                .collect();
            let results = self
                .composite(
                    subrequests,
                    BodyClass::Batch,
                    "a composite call of describes",
                )
                .await?;
            for (request, result) in chunk.iter().zip(results) {
                out.push((
                    request.object.clone(),
                    describe_result(&request.object, result),
                ));
            }
        }
        Ok(out)
    }

    /// One composite call (counted once); results in the order of `subrequests`, matched
    /// by the reference ids this assigns.
    async fn composite(
        &self,
        mut subrequests: Vec<Value>,
        class: BodyClass,
        endpoint: &str,
    ) -> Result<Vec<CompositeResult>, Error> {
        for (i, sub) in subrequests.iter_mut().enumerate() {
            sub["referenceId"] = Value::String(format!("r{i}"));
        }
        let body = json!({"compositeRequest": subrequests, "allOrNone": false});
        let call = Call {
            method: Method::POST,
            body: Some(&body),
            ..Call::get(self.data_url("composite"), 1, class, endpoint)
        };
        let response: CompositeResponse = self.fetch(call).await?;
        let mut results: Vec<Option<CompositeResult>> = Vec::new();
        results.resize_with(subrequests.len(), || None);
        for result in response.composite_response {
            let slot = result
                .reference_id
                .strip_prefix('r')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| results.get_mut(n));
            if let Some(slot) = slot {
                *slot = Some(result);
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| {
                    Error::bad_response(
                        "BAD_RESPONSE",
                        format!("{endpoint}: subrequest r{i} was not answered"),
                    )
                })
            })
            .collect()
    }

    /// A data path without the instance, as composite subrequest URLs are written.
    fn data_path(&self, path: &str) -> String {
        format!("/services/data/v{}/{path}", self.api_version())
    }
}

fn query_resource(options: QueryOptions) -> &'static str {
    if options.include_deleted {
        "queryAll/"
    } else {
        "query/"
    }
}

/// A subrequest's REST error, classified like the same error on its own.
fn subrequest_error(result: &CompositeResult) -> Error {
    let bytes = serde_json::to_vec(&result.body).unwrap_or_default();
    Error::from_response(result.http_status_code, &bytes)
}

fn page_result(request: &PageRequest, result: CompositeResult) -> Result<QueryPage, Error> {
    let status = result.http_status_code;
    if !(200..300).contains(&status) {
        return Err(subrequest_error(&result));
    }
    let bytes = serde_json::to_vec(&result.body)
        .map_err(|e| body::unparsable(status, "a query page in a composite call", &e))?;
    QueryPage::from_json_bounded(bytes, page_field_limit(request.soql()))
        .map_err(|e| body::unparsable(status, "a query page in a composite call", &e))
}

fn describe_result(object: &str, result: CompositeResult) -> Result<Described, Error> {
    match result.http_status_code {
        304 => Ok(Described::NotModified),
        200..=299 => {
            let last_modified = result.header("Last-Modified").map(str::to_string);
            let describe: Describe = serde_json::from_value(result.body).map_err(|e| {
                Error::bad_response(
                    "BAD_RESPONSE",
                    format!("the describe of {object} is not understood: {e}"),
                )
            })?;
            Ok(Described::Fresh {
                describe: Box::new(describe),
                last_modified,
            })
        }
        _ => Err(subrequest_error(&result)),
    }
}
