//! The typed REST client. One per source; cheap to clone (clones share state), safe to use
//! from concurrent object syncs. Every counted call passes the caller's hooks (a veto
//! stops it before it is sent), is counted, and reports `Sforce-Limit-Info`. A 401 refreshes
//! the access token once (single-flight across clones) and retries the call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, IF_MODIFIED_SINCE, LAST_MODIFIED, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::{Identity, Permissions, Secret, Session, refresh_access_token};
use super::body::{self, Body, BodyClass};
use super::errors::{Error, Fault, Veto, classify};
use super::http::HttpClient;
use super::limit_info::LimitInfo;
use super::retry::{RetryPolicy, parse_retry_after};
use super::soql::{self, PageBounds, PageKey, QueryPlan, Select, Soql, validate_object};
use super::types::{
    DeletedRecords, Describe, DescribeGlobal, Limits, MAX_PAGE_FIELDS, QueryPage, Record,
    RecordCounts, UpdatedIds, Version, format_soql_datetime,
};
use crate::model::{FieldValue, Records, parse_datetime};

/// Used until `negotiate_api_version` picks one.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// The newest API version this client was written and tested against.
pub const MAX_SUPPORTED_API_VERSION: &str = "64.0";
pub use composite::{COMPOSITE_LIMIT, COMPOSITE_QUERY_LIMIT, DescribeRequest, PageRequest};

/// What the engine plugs into every call.
pub trait CallHooks: Send + Sync {
    /// Before a counted call is sent; `calls` is what it costs (composite sub-requests count
    /// one each). An `Err` aborts the call with `Error::Vetoed`.
    fn before_call(&self, _calls: u32) -> Result<(), Veto> {
        Ok(())
    }
    /// Exactly once after each counted call that `before_call` allowed, with the response's
    /// `Sforce-Limit-Info` (None when absent or when no response arrived).
    fn after_call(&self, _usage: Option<LimitInfo>) {}
    /// After a refresh made with `used_refresh_token`, so the new token can be persisted.
    /// `refresh_token` is set only when Salesforce rotated it.
    fn tokens_refreshed(
        &self,
        _used_refresh_token: &Secret,
        _access_token: &Secret,
        _refresh_token: Option<&Secret>,
    ) {
    }
}

/// Hooks that allow everything and persist nothing (CLI one-shots, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;
impl CallHooks for NoHooks {}

/// `query` or `queryAll` (which also returns deleted and archived rows), and the page size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryOptions {
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize=N` (Salesforce clamps to 200..=2000, not guaranteed).
    pub batch_size: Option<u32>,
}

/// A describe revalidated with `If-Modified-Since`.
#[derive(Debug, Clone)]
pub enum Described {
    Fresh {
        describe: Box<Describe>,
        /// `Last-Modified` to send next time.
        last_modified: Option<String>,
    },
    NotModified,
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("instance_url", &self.inner.instance_url)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

struct Inner {
    http: HttpClient,
    hooks: Arc<dyn CallHooks>,
    instance_url: String,
    login_url: String,
    client_id: String,
    identity_url: Option<String>,
    tokens: RwLock<Tokens>,
    refresh_lock: tokio::sync::Mutex<()>,
    api_version: RwLock<String>,
    retry: RwLock<RetryPolicy>,
    max_url_bytes: AtomicUsize,
    calls: AtomicU64,
}

#[derive(Clone)]
struct Tokens {
    access: Secret,
    refresh: Option<Secret>,
}

struct Call<'a> {
    method: Method,
    url: String,
    query: Vec<(&'static str, String)>,
    headers: Vec<(reqwest::header::HeaderName, String)>,
    body: Option<&'a Value>,
    counted: u32,
    /// The size cap of a success body (error bodies are always `Small`).
    class: BodyClass,
    /// What the call is, for errors ("describe of Account").
    endpoint: String,
    /// Distinct fields a query page may have.
    max_fields: usize,
}

impl<'a> Call<'a> {
    fn get(url: String, counted: u32, class: BodyClass, endpoint: impl Into<String>) -> Call<'a> {
        Call {
            method: Method::GET,
            url,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            counted,
            class,
            endpoint: endpoint.into(),
            max_fields: MAX_PAGE_FIELDS,
        }
    }
}

/// Distinct fields a page of `soql` may have: what it selected, plus a little slack.
fn page_field_limit(soql: &Soql) -> usize {
    soql.select_width()
        .map_or(MAX_PAGE_FIELDS, |width| width.saturating_add(8))
}

/// How a response body becomes a value: serde for most, the compact parser for query pages.
trait FromJsonBody: Sized {
    fn from_json_body(body: Vec<u8>, max_fields: usize) -> Result<Self, serde_json::Error>;
}

impl<T: DeserializeOwned> FromJsonBody for T {
    fn from_json_body(body: Vec<u8>, _: usize) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&body)
    }
}

impl FromJsonBody for QueryPage {
    fn from_json_body(body: Vec<u8>, max_fields: usize) -> Result<QueryPage, serde_json::Error> {
        QueryPage::from_json_bounded(body, max_fields)
    }
}

/// A counted call between `before_call` and `after_call`. `after_call` runs exactly once:
/// with the response's reading, or without one when the call fails or its future is
/// dropped mid-flight (a cancelled task), so the quota books always balance.
struct CountedCall<'a> {
    hooks: &'a dyn CallHooks,
}

impl CountedCall<'_> {
    fn finish(self, usage: Option<LimitInfo>) {
        self.hooks.after_call(usage);
        std::mem::forget(self);
    }
}

impl Drop for CountedCall<'_> {
    fn drop(&mut self) {
        self.hooks.after_call(None);
    }
}

/// Where a stream of query pages is.
enum Cursor {
    First(Soql),
    Next(String),
    Done,
}

struct Reply<T> {
    body: Option<T>,
    last_modified: Option<String>,
}

impl Client {
    pub fn new(http: HttpClient, session: Session, hooks: Arc<dyn CallHooks>) -> Client {
        Client {
            inner: Arc::new(Inner {
                http,
                hooks,
                instance_url: session.instance_url.trim_end_matches('/').to_string(),
                login_url: session.login_url,
                client_id: session.client_id,
                identity_url: session.identity_url,
                tokens: RwLock::new(Tokens {
                    access: session.access_token,
                    refresh: session.refresh_token,
                }),
                refresh_lock: tokio::sync::Mutex::new(()),
                api_version: RwLock::new(DEFAULT_API_VERSION.to_string()),
                retry: RwLock::new(RetryPolicy::default()),
                max_url_bytes: AtomicUsize::new(soql::MAX_URL_BYTES),
                calls: AtomicU64::new(0),
            }),
        }
    }

    /// Counted calls sent by this client and its clones (sub-requests count one each).
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    pub fn api_version(&self) -> String {
        read(&self.inner.api_version).clone()
    }

    pub fn set_api_version(&self, version: &str) {
        *write(&self.inner.api_version) = version.trim_start_matches('v').to_string();
    }

    pub fn set_retry_policy(&self, policy: RetryPolicy) {
        *write(&self.inner.retry) = policy;
    }

    /// Lower the URL budget of split queries below Salesforce's (`soql::MAX_URL_BYTES`), for
    /// proxies with shorter request-line limits.
    pub fn set_max_url_bytes(&self, max: usize) {
        self.inner
            .max_url_bytes
            .store(max.min(soql::MAX_URL_BYTES), Ordering::Relaxed);
    }

    /// The current access token (after any refresh).
    pub fn access_token(&self) -> Secret {
        read(&self.inner.tokens).access.clone()
    }

    /// `GET /services/data/` (not counted against the daily limit).
    pub async fn versions(&self) -> Result<Vec<Version>, Error> {
        let url = format!("{}/services/data/", self.inner.instance_url);
        self.fetch(Call::get(url, 0, BodyClass::Small, "the API versions"))
            .await
    }

    /// Use `pin` if the org offers it, else the newest version up to
    /// `MAX_SUPPORTED_API_VERSION`. Returns the version chosen.
    pub async fn negotiate_api_version(&self, pin: Option<&str>) -> Result<String, Error> {
        let offered = self.versions().await?;
        let number = |v: &str| v.trim_start_matches('v').parse::<f64>().ok();
        let chosen = match pin {
            Some(pin) => offered
                .iter()
                .find(|v| number(&v.version) == number(pin))
                .map(|v| v.version.clone())
                .ok_or_else(|| {
                    Error::fatal(
                        "API_VERSION",
                        format!("the org does not offer API version {pin}; change or remove api_version in the config"),
                    )
                })?,
            None => {
                let max = number(MAX_SUPPORTED_API_VERSION).unwrap_or(f64::MAX);
                offered
                    .iter()
                    .filter_map(|v| Some((number(&v.version)?, &v.version)))
                    .filter(|(n, _)| *n <= max)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        Error::fatal("API_VERSION", "the org offers no API version this syncdeck supports")
                    })?
            }
        };
        self.set_api_version(&chosen);
        Ok(chosen)
    }

    pub async fn describe_global(&self) -> Result<DescribeGlobal, Error> {
        self.fetch(Call::get(
            self.data_url("sobjects/"),
            1,
            BodyClass::Describe,
            "describeGlobal",
        ))
        .await
    }

    /// Describe one object, revalidating with `If-Modified-Since` when given.
    pub async fn describe(
        &self,
        object: &str,
        if_modified_since: Option<DateTime<Utc>>,
    ) -> Result<Described, Error> {
        let object = validate_object(object).map_err(soql_error)?;
        let mut call = Call::get(
            self.data_url(&format!("sobjects/{object}/describe/")),
            1,
            BodyClass::Describe,
            format!("the describe of {object}"),
        );
        if let Some(at) = if_modified_since {
            call.headers.push((
                IF_MODIFIED_SINCE,
                at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ));
        }
        let reply: Reply<Describe> = self.send(&call).await?;
        Ok(match reply.body {
            Some(describe) => Described::Fresh {
                describe: Box::new(describe),
                last_modified: reply.last_modified,
            },
            None => Described::NotModified,
        })
    }

    /// Pages of `query` (live rows only).
    pub fn query_pages(&self, soql: &Soql) -> BoxStream<'static, Result<QueryPage, Error>> {
        self.query_pages_with(soql, QueryOptions::default())
    }

    /// Pages of `queryAll` (deleted and archived rows too, `IsDeleted = true`).
    pub fn query_all_pages(&self, soql: &Soql) -> BoxStream<'static, Result<QueryPage, Error>> {
        self.query_pages_with(
            soql,
            QueryOptions {
                include_deleted: true,
                batch_size: None,
            },
        )
    }

    /// Pages of a query, following `nextRecordsUrl` verbatim until `done`. The stream ends
    /// after the first error; `InvalidQueryLocator` means: restart from your checkpoint.
    pub fn query_pages_with(
        &self,
        soql: &Soql,
        options: QueryOptions,
    ) -> BoxStream<'static, Result<QueryPage, Error>> {
        self.pages(Cursor::First(soql.clone()), soql, options)
    }

    fn pages(
        &self,
        start: Cursor,
        soql: &Soql,
        options: QueryOptions,
    ) -> BoxStream<'static, Result<QueryPage, Error>> {
        let start = (self.clone(), start);
        let max_fields = page_field_limit(soql);
        stream::unfold(start, move |(client, cursor)| async move {
            let page = match cursor {
                Cursor::First(soql) => client.query_first(&soql, options).await,
                Cursor::Next(url) => client.query_more_with(&url, options, max_fields).await,
                Cursor::Done => return None,
            };
            let next = match &page {
                Ok(p) if !p.done => match &p.next_records_url {
                    Some(url) => Cursor::Next(url.clone()),
                    None => {
                        let err = Error::fatal(
                            "BAD_RESPONSE",
                            "a page says more follow but has no nextRecordsUrl",
                        );
                        return Some((Err(err), (client, Cursor::Done)));
                    }
                },
                _ => Cursor::Done,
            };
            Some((page, (client, next)))
        })
        .boxed()
    }

    /// The pages of `soql` from a `nextRecordsUrl` on (a query begun elsewhere, such as in
    /// a composite call), like [`Client::query_pages_with`].
    pub fn query_pages_from(
        &self,
        next_records_url: &str,
        soql: &Soql,
        options: QueryOptions,
    ) -> BoxStream<'static, Result<QueryPage, Error>> {
        self.pages(Cursor::Next(next_records_url.to_string()), soql, options)
    }

    /// The one query that reads `select` when it fits one URL; `None` when it must be
    /// split into field groups (read it with [`Client::select_pages`]).
    pub fn single_query(
        &self,
        select: &Select,
        options: QueryOptions,
    ) -> Result<Option<Soql>, Error> {
        let prefix = self.query_url(options).len() + "?q=".len();
        let max_url = self.inner.max_url_bytes.load(Ordering::Relaxed);
        let plan = select.plan(prefix, max_url).map_err(soql_error)?;
        if !plan.lookups.is_empty() {
            return Ok(None);
        }
        plan.driver.build().map(Some).map_err(soql_error)
    }

    /// Fetch the page at a `nextRecordsUrl`, verbatim.
    pub async fn query_more(&self, next_records_url: &str) -> Result<QueryPage, Error> {
        self.query_more_with(next_records_url, QueryOptions::default(), MAX_PAGE_FIELDS)
            .await
    }

    /// Run a `Select`, splitting it into field groups joined by Id when its URL would be
    /// too long. A record missing from a group is an error, never a silent drop.
    pub fn select_pages(
        &self,
        select: &Select,
        options: QueryOptions,
    ) -> BoxStream<'static, Result<QueryPage, Error>> {
        let prefix = self.query_url(options).len() + "?q=".len();
        let max_url = self.inner.max_url_bytes.load(Ordering::Relaxed);
        let plan = match select.plan(prefix, max_url) {
            Ok(plan) => plan,
            Err(e) => return stream::once(async move { Err(soql_error(e)) }).boxed(),
        };
        let driver = match plan.driver.build() {
            Ok(q) => q,
            Err(e) => return stream::once(async move { Err(soql_error(e)) }).boxed(),
        };
        if plan.lookups.is_empty() {
            return self.query_pages_with(&driver, options);
        }
        let client = self.clone();
        let plan = Arc::new(plan);
        let joined = self.query_pages_with(&driver, options).then(move |page| {
            let client = client.clone();
            let plan = plan.clone();
            async move {
                client
                    .join_lookups(page?, &plan, options, prefix, max_url)
                    .await
            }
        });
        // Like every query stream, end after the first error.
        joined
            .scan(false, |failed, item| {
                let next = (!*failed).then(|| {
                    *failed = item.is_err();
                    item
                });
                futures::future::ready(next)
            })
            .boxed()
    }

    /// `totalSize` of a `SELECT COUNT() ...` query.
    pub async fn count(&self, soql: &Soql) -> Result<u64, Error> {
        Ok(self
            .query_first(soql, QueryOptions::default())
            .await?
            .total_size)
    }

    pub async fn limits(&self) -> Result<Limits, Error> {
        self.fetch(Call::get(
            self.data_url("limits/"),
            1,
            BodyClass::Small,
            "the org's limits",
        ))
        .await
    }

    /// Approximate row counts (`limits/recordCount`), cheap planning numbers; an empty
    /// `objects` asks for every object.
    pub async fn record_count(&self, objects: &[String]) -> Result<RecordCounts, Error> {
        for object in objects {
            validate_object(object).map_err(soql_error)?;
        }
        let mut call = Call::get(
            self.data_url("limits/recordCount"),
            1,
            BodyClass::Small,
            "the record counts",
        );
        call.query.push(("sObjects", objects.join(",")));
        self.fetch(call).await
    }

    /// Records of `object` deleted between `start` and `end` (the delete log, one call;
    /// Salesforce ignores the seconds). `ErrorClass::ReplicationRange` when the log cannot
    /// cover the range.
    pub async fn deleted(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeletedRecords, Error> {
        self.fetch(self.replication_call(object, "deleted", start, end)?)
            .await
    }

    /// Ids of `object` created or updated between `start` and `end` (one call).
    pub async fn updated(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<UpdatedIds, Error> {
        self.fetch(self.replication_call(object, "updated", start, end)?)
            .await
    }

    fn replication_call(
        &self,
        object: &str,
        resource: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Call<'static>, Error> {
        validate_object(object).map_err(soql_error)?;
        let mut call = Call::get(
            self.data_url(&format!("sobjects/{object}/{resource}/")),
            1,
            BodyClass::Replication,
            format!("the {resource} window of {object}"),
        );
        call.query.push(("start", format_soql_datetime(start)));
        call.query.push(("end", format_soql_datetime(end)));
        Ok(call)
    }

    /// Who the tokens belong to (the identity URL; not counted).
    pub async fn identity(&self) -> Result<Identity, Error> {
        let url = self.inner.identity_url.clone().ok_or_else(|| {
            Error::fatal(
                "NO_IDENTITY_URL",
                "the session has no identity URL; reauthorize the source",
            )
        })?;
        self.fetch(Call::get(url, 0, BodyClass::Small, "the identity URL"))
            .await
    }

    /// API Enabled / View All Data / View Setup of a user (SALESFORCE-API.md §7).
    pub async fn check_permissions(&self, user_id: &str) -> Result<Permissions, Error> {
        let soql = soql::permission_assignments(user_id).map_err(soql_error)?;
        let mut pages = self.query_pages(&soql);
        let mut records = Vec::new();
        while let Some(page) = pages.next().await {
            records.extend(page?.records.to_maps());
        }
        Ok(Permissions::from_assignments(&records))
    }

    fn data_url(&self, path: &str) -> String {
        format!(
            "{}/services/data/v{}/{path}",
            self.inner.instance_url,
            self.api_version()
        )
    }

    fn query_url(&self, options: QueryOptions) -> String {
        self.data_url(if options.include_deleted {
            "queryAll/"
        } else {
            "query/"
        })
    }

    async fn query_first(&self, soql: &Soql, options: QueryOptions) -> Result<QueryPage, Error> {
        let mut call = Call::get(
            self.query_url(options),
            1,
            BodyClass::QueryPage,
            "a query page",
        );
        call.max_fields = page_field_limit(soql);
        call.query.push(("q", soql.as_str().to_string()));
        add_batch_size(&mut call, options);
        self.fetch(call).await
    }

    async fn query_more_with(
        &self,
        next_records_url: &str,
        options: QueryOptions,
        max_fields: usize,
    ) -> Result<QueryPage, Error> {
        if !next_records_url.starts_with('/') {
            return Err(Error::fatal(
                "BAD_RESPONSE",
                format!("nextRecordsUrl \"{next_records_url}\" is not a path on the instance"),
            ));
        }
        let mut call = Call::get(
            format!("{}{next_records_url}", self.inner.instance_url),
            1,
            BodyClass::QueryPage,
            "a query page",
        );
        call.max_fields = max_fields;
        add_batch_size(&mut call, options);
        self.fetch(call).await
    }

    /// Every record of some queries, by Id.
    async fn lookup_records(
        &self,
        queries: &[Soql],
        options: QueryOptions,
    ) -> Result<HashMap<String, Record>, Error> {
        let mut found = HashMap::new();
        for soql in queries {
            let mut pages = self.query_pages_with(soql, options);
            while let Some(page) = pages.next().await {
                for record in page?.records.iter() {
                    if let Some(id) = record.id() {
                        found.insert(id.to_string(), record.to_map());
                    }
                }
            }
        }
        Ok(found)
    }

    async fn join_lookups(
        &self,
        mut page: QueryPage,
        plan: &QueryPlan,
        options: QueryOptions,
        prefix: usize,
        max_url: usize,
    ) -> Result<QueryPage, Error> {
        let ids: Vec<String> = page
            .records
            .iter()
            .filter_map(|r| r.id().map(str::to_string))
            .collect();
        if ids.len() != page.records.len() {
            return Err(Error::fatal(
                "BAD_RESPONSE",
                "a split query's driver returned a record without Id",
            ));
        }
        let Some(bounds) = page_bounds(&page.records, &ids, plan.key)? else {
            return Ok(page);
        };
        let object = plan.driver.object();
        for group in 0..plan.lookups.len() {
            let range = plan.lookup(group, &bounds).map_err(soql_error)?;
            let mut found = self.lookup_records(&[range], options).await?;
            let moved: Vec<String> = ids
                .iter()
                .filter(|id| !found.contains_key(*id))
                .cloned()
                .collect();
            if !moved.is_empty() {
                // Changed since the driver read them: their SystemModstamp left the range.
                let by_id = plan
                    .lookup_ids(group, &moved, prefix, max_url)
                    .map_err(soql_error)?;
                found.extend(self.lookup_records(&by_id, options).await?);
            }
            let mut extra_fields = Vec::with_capacity(ids.len());
            for (row, id) in ids.iter().enumerate() {
                let mut extra = found.remove(id).ok_or_else(|| {
                    Error::fatal(
                        "SPLIT_RECORD_MISSING",
                        format!(
                            "{object} {id} is missing from field group {} of a split query (changed, deleted or hidden meanwhile); the run stops so no fields are silently lost, and the next run retries",
                            group + 2
                        ),
                    )
                })?;
                extra.remove("Id");
                extra_fields.push((row, extra));
            }
            page.records.merge_rows(extra_fields);
        }
        Ok(page)
    }

    async fn fetch<T: FromJsonBody>(&self, call: Call<'_>) -> Result<T, Error> {
        let reply = self.send(&call).await?;
        reply
            .body
            .ok_or_else(|| Error::fatal("BAD_RESPONSE", "unexpected 304 Not Modified"))
    }

    /// Retries transient failures per the policy; each attempt may refresh once on 401.
    async fn send<T: FromJsonBody>(&self, call: &Call<'_>) -> Result<Reply<T>, Error> {
        let policy = *read(&self.inner.retry);
        policy.run(|_| self.attempt(call)).await
    }

    async fn attempt<T: FromJsonBody>(&self, call: &Call<'_>) -> Result<Reply<T>, Error> {
        let mut refreshed = false;
        loop {
            let token = self.access_token();
            let (status, headers, body) = self.transmit(call, &token).await?;
            match status {
                401 if !refreshed && self.has_refresh_token() => {
                    self.refresh_after_401(&token).await?;
                    refreshed = true;
                }
                401 => {
                    let fault = body::error_fault(status, &body);
                    let reason = if refreshed {
                        "the session is rejected even with a fresh token"
                    } else {
                        "the session expired and no refresh token is stored"
                    };
                    return Err(Error::auth_required(reason, fault));
                }
                304 => {
                    return Ok(Reply {
                        body: None,
                        last_modified: header_text(&headers, LAST_MODIFIED),
                    });
                }
                200..=299 => {
                    if !body.complete {
                        return Err(body::too_large(call.class.cap(), &call.endpoint));
                    }
                    let parsed = T::from_json_body(body.bytes, call.max_fields)
                        .map_err(|e| body::unparsable(status, &call.endpoint, &e))?;
                    return Ok(Reply {
                        body: Some(parsed),
                        last_modified: header_text(&headers, LAST_MODIFIED),
                    });
                }
                _ => {
                    let mut err = classify(body::error_fault(status, &body));
                    if let Error::Retryable { retry_after, .. } = &mut err {
                        *retry_after = header_text(&headers, RETRY_AFTER)
                            .as_deref()
                            .and_then(parse_retry_after);
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Send one request through the hooks and the counter.
    async fn transmit(
        &self,
        call: &Call<'_>,
        token: &Secret,
    ) -> Result<(u16, HeaderMap, Body), Error> {
        let hooks = &*self.inner.hooks;
        let mut counted = None;
        if call.counted > 0 {
            hooks.before_call(call.counted).map_err(Error::Vetoed)?;
            self.inner
                .calls
                .fetch_add(u64::from(call.counted), Ordering::Relaxed);
            counted = Some(CountedCall { hooks });
        }
        let mut request = self
            .inner
            .http
            .reqwest()
            .request(call.method.clone(), &call.url)
            .bearer_auth(token.expose())
            .header(ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        // A transport error or a dropped future ends `counted` without a reading.
        let response = request.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(counted) = counted {
            let usage = header_text(&headers, LimitInfo::HEADER)
                .as_deref()
                .and_then(LimitInfo::parse);
            counted.finish(usage);
        }
        let cap = if (200..300).contains(&status) {
            call.class.cap()
        } else {
            BodyClass::Small.cap()
        };
        let body = body::read_capped(response, cap)
            .await
            .map_err(|e| transport_error(&e))?;
        Ok((status, headers, body))
    }

    fn has_refresh_token(&self) -> bool {
        read(&self.inner.tokens).refresh.is_some()
    }

    /// Refresh unless another task already replaced the token that was rejected.
    async fn refresh_after_401(&self, rejected: &Secret) -> Result<(), Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        let tokens = read(&self.inner.tokens).clone();
        if tokens.access != *rejected {
            return Ok(());
        }
        let Some(refresh) = tokens.refresh else {
            return Err(Error::auth_required(
                "the session expired and no refresh token is stored",
                Fault::new(
                    Some(401),
                    "INVALID_SESSION_ID",
                    "Session expired or invalid",
                ),
            ));
        };
        tracing::info!(instance = %self.inner.instance_url, "access token rejected; refreshing");
        let body = refresh_access_token(
            &self.inner.http,
            &self.inner.login_url,
            &self.inner.client_id,
            &refresh,
        )
        .await?;
        let access = Secret::new(body.access_token.secret().as_str());
        let rotated = body
            .refresh_token
            .as_ref()
            .map(|t| Secret::new(t.secret().as_str()));
        {
            let mut tokens = write(&self.inner.tokens);
            tokens.access = access.clone();
            if let Some(r) = &rotated {
                tokens.refresh = Some(r.clone());
            }
        }
        self.inner
            .hooks
            .tokens_refreshed(&refresh, &access, rotated.as_ref());
        Ok(())
    }
}

/// The key range a driver page covers; `None` for an empty page.
fn page_bounds(
    records: &Records,
    ids: &[String],
    key: PageKey,
) -> Result<Option<PageBounds>, Error> {
    let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
        return Ok(None);
    };
    Ok(Some(match key {
        // Pages are ordered by Id: the first and last ids bound the page.
        PageKey::Id => PageBounds::Id(first.clone(), last.clone()),
        PageKey::Modstamp => {
            let stamps = records
                .iter()
                .map(|r| {
                    r.get("SystemModstamp")
                        .and_then(FieldValue::as_str)
                        .and_then(|s| parse_datetime(s).ok())
                        .ok_or_else(|| {
                            Error::fatal(
                                "BAD_RESPONSE",
                                "a split query's driver returned a record without a SystemModstamp",
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let min = stamps.iter().min().copied();
            let max = stamps.iter().max().copied();
            match (min, max) {
                (Some(min), Some(max)) => PageBounds::Modstamp(min, max),
                _ => return Ok(None),
            }
        }
    }))
}

fn add_batch_size(call: &mut Call<'_>, options: QueryOptions) {
    if let Some(n) = options.batch_size {
        call.headers.push((
            reqwest::header::HeaderName::from_static("sforce-query-options"),
            format!("batchSize={n}"),
        ));
    }
}

fn header_text(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn soql_error(e: soql::SoqlError) -> Error {
    Error::fatal("INVALID_IDENTIFIER", e.to_string())
}

/// Timeouts, refused connections, resets and cut-off bodies are all worth retrying.
fn transport_error(e: &reqwest::Error) -> Error {
    let code = if e.is_timeout() {
        "TIMEOUT"
    } else if e.is_body() || e.is_decode() {
        "TRUNCATED_BODY"
    } else {
        "CONNECTION"
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::retryable(Fault::new(None, code, message))
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) mod bulk;
mod composite;
#[cfg(test)]
mod tests;
