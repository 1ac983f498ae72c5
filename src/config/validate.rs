//! Parse and validate the configuration, reporting every problem at once with its position.
//!
//! The file is walked with `toml_edit` (which keeps spans) so each diagnostic can say
//! `path:line:col: what is wrong and what is allowed`; only a file without problems is then
//! deserialized into the typed [`Config`]. Nothing here ever writes to the file.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Key, TableLike};

use super::model::{Config, Frequency};
use super::sfname;

/// One problem in the file. `line` and `col` are 1-based; `col` counts characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no configuration at {path}; create a commented one to edit with `syncdeck config init`, try syncdeck first with `syncdeck demo` (sandbox orgs, nothing to set up), or pass --config PATH / set SYNCDECK_CONFIG"
    )]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_diagnostics(path, diagnostics))]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
}

/// `path:line:col: message`, one per line.
pub fn render_diagnostics(path: &Path, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("{}:{d}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Read, validate and parse the configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(ConfigError::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_str(&text).map_err(|diagnostics| ConfigError::Invalid {
        path: path.to_path_buf(),
        diagnostics,
    })
}

/// Validate configuration text; every problem is returned, in file order.
pub fn parse_str(text: &str) -> Result<Config, Vec<Diagnostic>> {
    let mut v = Validator {
        text,
        diagnostics: Vec::new(),
    };
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            v.push(
                e.span(),
                format!("syntax error: {}", e.message().trim_end()),
            );
            return Err(v.diagnostics);
        }
    };
    v.root(doc.as_table());
    if !v.diagnostics.is_empty() {
        v.diagnostics.sort_by_key(|d| (d.line, d.col));
        return Err(v.diagnostics);
    }
    // The walk above checked every key and value, so this only fails on a gap in the
    // walk; still reported as a positioned diagnostic rather than a panic.
    toml::from_str::<Config>(text)
        .map(Config::with_store_defaults)
        .map_err(|e| {
            let mut v = Validator {
                text,
                diagnostics: Vec::new(),
            };
            v.push(e.span(), e.message().to_string());
            v.diagnostics
        })
}

const ROOT_KEYS: &[&str] = &["source", "notify", "store", "fleet"];
const FLEET_KEYS: &[&str] = &["url", "password_env", "schema", "host", "lease_seconds"];
/// Shorter leases make a paused daemon lose its sources on a hiccup; longer ones make
/// failover slow.
const LEASE_SECONDS: std::ops::RangeInclusive<i64> = 2..=600;
const STORE_KEYS: &[&str] = &["url", "password_env", "schema"];
const SOURCE_KEYS: &[&str] = &[
    "id",
    "name",
    "kind",
    "login_url",
    "client_id",
    "api_version",
    "sync_enabled",
    "frequency",
    "quota_threshold_percent",
    "run_quota_percent",
    "formula_policy",
    "query_cursors",
    "verify",
    "bulk_threshold",
    "objects",
    "store",
];
const REQUIRED_SOURCE_KEYS: &[&str] = &["id", "name", "login_url", "client_id"];
const OBJECT_KEYS: &[&str] = &["fields"];
const NOTIFY_KEYS: &[&str] = &["email", "webhook"];
const EMAIL_KEYS: &[&str] = &[
    "smtp_host",
    "smtp_port",
    "security",
    "from",
    "to",
    "username",
    "password_env",
];
const WEBHOOK_KEYS: &[&str] = &["url"];
const FORMULA_POLICIES: &[&str] = &["daily-reread", "every-run", "incremental"];
const SMTP_SECURITY: &[&str] = &["starttls", "tls", "none"];

struct Validator<'t> {
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, span: Option<Range<usize>>, message: String) {
        let (line, col) = line_col(self.text, span.map(|s| s.start).unwrap_or(0));
        self.diagnostics.push(Diagnostic { line, col, message });
    }

    fn root(&mut self, root: &toml_edit::Table) {
        self.unknown_keys(root, ROOT_KEYS, "at the top level");
        if let Some((key, item)) = root.get_key_value("source") {
            match item.as_array_of_tables() {
                Some(sources) => {
                    let mut seen: HashMap<String, usize> = HashMap::new();
                    for source in sources.iter() {
                        self.source(source, &mut seen);
                    }
                }
                None => self.push(
                    key.span().or(item.span()),
                    "`source` must be written as one [[source]] table per data source".into(),
                ),
            }
        }
        if let Some((key, item)) = root.get_key_value("store") {
            match item.as_table_like() {
                Some(store) => self.store(store, "[store]", false, key_span(Some(key), item)),
                None => self.push(
                    key.span().or(item.span()),
                    "`store` must be a table: [store]".into(),
                ),
            }
        }
        if let Some((key, item)) = root.get_key_value("fleet") {
            match item.as_table_like() {
                Some(fleet) => self.fleet(fleet, key_span(Some(key), item)),
                None => self.push(
                    key.span().or(item.span()),
                    "`fleet` must be a table: [fleet]".into(),
                ),
            }
        }
        self.fleet_stores(root);
        if let Some((key, item)) = root.get_key_value("notify") {
            match item.as_table_like() {
                Some(notify) => self.notify(notify),
                None => self.push(
                    key.span().or(item.span()),
                    "`notify` must be a table: [notify]".into(),
                ),
            }
        }
    }

    fn source(&mut self, t: &toml_edit::Table, seen: &mut HashMap<String, usize>) {
        self.unknown_keys(t, SOURCE_KEYS, "in [[source]]");
        for key in REQUIRED_SOURCE_KEYS {
            if !t.contains_key(key) {
                self.push(
                    t.span(),
                    format!("[[source]] is missing `{key}`, which every source needs"),
                );
            }
        }
        if let Some((item, s)) = self.string(t, "id") {
            if !is_slug(s) {
                self.push(
                    item.span(),
                    format!(
                        "source id \"{s}\" is not a slug; use lowercase letters, digits and single dashes (e.g. \"acme-prod\"), at most 64 characters"
                    ),
                );
            }
            let line = line_col(self.text, item.span().map(|r| r.start).unwrap_or(0)).0;
            if let Some(first) = seen.get(s) {
                self.push(
                    item.span(),
                    format!("duplicate source id \"{s}\" (first used on line {first}); ids must be unique"),
                );
            } else {
                seen.insert(s.to_string(), line);
            }
        }
        if let Some((item, s)) = self.string(t, "name")
            && s.trim().is_empty()
        {
            self.push(item.span(), "`name` must not be empty".into());
        }
        if let Some((item, s)) = self.string(t, "kind")
            && s != "salesforce"
        {
            self.push(
                item.span(),
                format!("unknown kind \"{s}\"; allowed: \"salesforce\""),
            );
        }
        if let Some((item, s)) = self.string(t, "login_url")
            && let Err(why) = check_login_url(s)
        {
            self.push(item.span(), why);
        }
        if let Some((item, s)) = self.string(t, "client_id")
            && s.trim().is_empty()
        {
            self.push(
                item.span(),
                "`client_id` must not be empty; paste your connected app's consumer key".into(),
            );
        }
        if let Some((item, s)) = self.string(t, "api_version")
            && !is_api_version(s)
        {
            self.push(
                item.span(),
                format!(
                    "api_version \"{s}\" is not a Salesforce API version; write it like \"62.0\""
                ),
            );
        }
        self.boolean(t, "sync_enabled");
        if let Some((item, s)) = self.string(t, "frequency")
            && let Err(e) = s.parse::<Frequency>()
        {
            self.push(item.span(), format!("frequency {e}"));
        }
        self.percent(t, "quota_threshold_percent");
        self.percent(t, "run_quota_percent");
        self.one_of(t, "formula_policy", FORMULA_POLICIES);
        self.query_cursors(t);
        self.one_of(t, "verify", &crate::config::VerifySchedule::ALLOWED);
        self.bulk_threshold(t);
        if let Some((key, item)) = t.get_key_value("store") {
            match item.as_table_like() {
                Some(store) => self.store(store, "[source.store]", true, key_span(Some(key), item)),
                None => self.push(
                    key.span().or(item.span()),
                    "`store` must be a table: [source.store]".into(),
                ),
            }
        }
        if let Some((key, item)) = t.get_key_value("objects") {
            match item.as_table_like() {
                Some(objects) => self.objects(objects),
                None => self.push(
                    key.span().or(item.span()),
                    "`objects` must be a table of objects: [source.objects.Account]".into(),
                ),
            }
        }
    }

    /// `[store]` or `[source.store]`: a PostgreSQL url without a password, the password's
    /// variable name, and (per source only) a schema name.
    fn store(
        &mut self,
        t: &dyn TableLike,
        place: &str,
        per_source: bool,
        at: Option<Range<usize>>,
    ) {
        self.unknown_keys(t, STORE_KEYS, &format!("in {place}"));
        if !t.contains_key("url") {
            self.push(
                at,
                format!(
                    "{place} is missing `url`, e.g. url = \"postgres://syncdeck@db.internal/crm\""
                ),
            );
        }
        if let Some((item, s)) = self.string(t, "url")
            && let Err(why) = check_store_url(s)
        {
            self.push(item.span(), why);
        }
        if let Some((item, s)) = self.string(t, "password_env")
            && !is_env_var_name(s)
        {
            self.push(
                item.span(),
                format!("password_env \"{s}\" is not an environment variable name; name the variable that holds the password, e.g. \"SYNCDECK_PG_PASSWORD\""),
            );
        }
        if let Some((item, s)) = self.string(t, "schema") {
            if !per_source {
                self.push(
                    item.span(),
                    "`schema` belongs in [source.store]: every source needs its own schema (the default is syncdeck_<source id>)".into(),
                );
            } else if !is_schema_name(s) {
                self.push(
                    item.span(),
                    format!("schema \"{s}\" is not a plain PostgreSQL name; use lowercase letters, digits and underscores, starting with a letter, at most 63 characters"),
                );
            }
        }
    }

    /// In a fleet every page commit checks the lease in its own transaction, so each
    /// source's rows must go to the database that holds the leases: a source without a
    /// PostgreSQL store, or with one elsewhere, could be written by two daemons at once.
    fn fleet_stores(&mut self, root: &toml_edit::Table) {
        let Some(fleet_url) = root
            .get("fleet")
            .and_then(Item::as_table_like)
            .and_then(|f| f.get("url"))
            .and_then(Item::as_str)
        else {
            return;
        };
        let Some(fleet_db) = database_of(fleet_url) else {
            return; // `fleet` reports the bad url itself.
        };
        let global = root
            .get("store")
            .and_then(Item::as_table_like)
            .and_then(|s| s.get("url"));
        let Some(sources) = root.get("source").and_then(Item::as_array_of_tables) else {
            return;
        };
        for source in sources.iter() {
            let id = source.get("id").and_then(Item::as_str).unwrap_or("?");
            let own = source
                .get("store")
                .and_then(Item::as_table_like)
                .and_then(|s| s.get("url"));
            match own.or(global) {
                None => self.push(
                    source.span(),
                    format!(
                        "source \"{id}\" has no PostgreSQL store, but in a fleet every source's rows must go to the fleet's database ({fleet_db}), where each page commit checks the lease; add [store] url = \"{fleet_url}\""
                    ),
                ),
                Some(item) => {
                    let Some(db) = item.as_str().and_then(database_of) else {
                        continue; // `store` reports the bad url itself.
                    };
                    if db != fleet_db {
                        self.push(
                            item.span(),
                            format!(
                                "source \"{id}\" stores into {db}, but the fleet's leases are in {fleet_db}; in a fleet each page commit checks the lease in the same transaction, so the store must be in the fleet's database"
                            ),
                        );
                    }
                }
            }
        }
    }

    /// `[fleet]`: the leases' database (like a store url), schema, host name and lease time.
    fn fleet(&mut self, t: &dyn TableLike, at: Option<Range<usize>>) {
        self.unknown_keys(t, FLEET_KEYS, "in [fleet]");
        if !t.contains_key("url") {
            self.push(
                at,
                "[fleet] is missing `url`, e.g. url = \"postgres://syncdeck@db.internal/crm\""
                    .into(),
            );
        }
        if let Some((item, s)) = self.string(t, "url")
            && let Err(why) = check_store_url(s)
        {
            self.push(item.span(), why.replacen("store url", "fleet url", 1));
        }
        if let Some((item, s)) = self.string(t, "password_env")
            && !is_env_var_name(s)
        {
            self.push(
                item.span(),
                format!("password_env \"{s}\" is not an environment variable name; name the variable that holds the password, e.g. \"SYNCDECK_PG_PASSWORD\""),
            );
        }
        if let Some((item, s)) = self.string(t, "schema")
            && !is_schema_name(s)
        {
            self.push(
                item.span(),
                format!("schema \"{s}\" is not a plain PostgreSQL name; use lowercase letters, digits and underscores, starting with a letter, at most 63 characters"),
            );
        }
        if let Some((item, s)) = self.string(t, "host")
            && (s.is_empty() || s.len() > 200 || s.chars().any(char::is_control))
        {
            self.push(
                item.span(),
                "host must be a short printable name (at most 200 bytes), e.g. \"sync-1\"".into(),
            );
        }
        if let Some(item) = t.get("lease_seconds") {
            match item.as_integer() {
                Some(n) if LEASE_SECONDS.contains(&n) => {}
                _ => self.push(
                    item.span(),
                    format!(
                        "lease_seconds must be a whole number from {} to {}",
                        LEASE_SECONDS.start(),
                        LEASE_SECONDS.end()
                    ),
                ),
            }
        }
    }

    fn objects(&mut self, objects: &dyn TableLike) {
        for (name, item) in objects.iter() {
            let key = objects.key(name);
            if let Err(why) = sfname::check_object_name(name) {
                self.push(
                    key_span(key, item),
                    format!("\"{name}\" is not a valid Salesforce object name: it {why}"),
                );
            }
            let Some(object) = item.as_table_like() else {
                self.push(
                    key_span(key, item),
                    format!("objects.{name} must be a table with `fields = [...]`"),
                );
                continue;
            };
            self.unknown_keys(object, OBJECT_KEYS, &format!("in objects.{name}"));
            let Some((fkey, fitem)) = object.get_key_value("fields") else {
                continue;
            };
            let Some(fields) = fitem.as_array() else {
                self.push(
                    fitem.span().or(fkey.span()),
                    format!("objects.{name}.fields must be an array of field names"),
                );
                continue;
            };
            let mut seen = Vec::new();
            for field in fields.iter() {
                match field.as_str() {
                    None => self.push(
                        field.span(),
                        "field names must be strings such as \"Name\"".into(),
                    ),
                    Some(f) => {
                        if let Err(why) = sfname::check_field_name(f) {
                            self.push(
                                field.span(),
                                format!("\"{f}\" is not a valid Salesforce field name: it {why}"),
                            );
                        } else if seen.contains(&f) {
                            self.push(
                                field.span(),
                                format!("field \"{f}\" is listed twice in objects.{name}"),
                            );
                        }
                        seen.push(f);
                    }
                }
            }
        }
    }

    fn notify(&mut self, notify: &dyn TableLike) {
        self.unknown_keys(notify, NOTIFY_KEYS, "in [notify]");
        if let Some((key, item)) = notify.get_key_value("email") {
            match item.as_table_like() {
                Some(email) => self.email(email, key_span(Some(key), item)),
                None => self.push(
                    key_span(Some(key), item),
                    "`notify.email` must be a table: [notify.email]".into(),
                ),
            }
        }
        if let Some((key, item)) = notify.get_key_value("webhook") {
            match item.as_table_like() {
                Some(webhook) => {
                    self.unknown_keys(webhook, WEBHOOK_KEYS, "in [notify.webhook]");
                    match self.string(webhook, "url") {
                        Some((item, url)) => {
                            if let Err(why) = check_webhook_url(url) {
                                self.push(item.span(), why);
                            }
                        }
                        None if !webhook.contains_key("url") => self.push(
                            key_span(Some(key), item),
                            "[notify.webhook] is missing `url`".into(),
                        ),
                        None => {}
                    }
                }
                None => self.push(
                    key_span(Some(key), item),
                    "`notify.webhook` must be a table: [notify.webhook]".into(),
                ),
            }
        }
    }

    fn email(&mut self, email: &dyn TableLike, at: Option<Range<usize>>) {
        self.unknown_keys(email, EMAIL_KEYS, "in [notify.email]");
        for key in ["smtp_host", "from", "to"] {
            if !email.contains_key(key) {
                self.push(at.clone(), format!("[notify.email] is missing `{key}`"));
            }
        }
        let host = self.string(email, "smtp_host").map(|(item, h)| {
            if h.is_empty() || h.contains(|c: char| c.is_whitespace() || c == '/') {
                self.push(
                    item.span(),
                    format!(
                        "smtp_host \"{h}\" is not a host name; write it like \"smtp.example.com\""
                    ),
                );
            }
            h.to_string()
        });
        if let Some((item, value)) = email
            .get_key_value("smtp_port")
            .map(|(_, i)| (i, i.as_integer()))
        {
            match value {
                Some(p) if (1..=65535).contains(&p) => {}
                _ => self.push(
                    item.span(),
                    "smtp_port must be a whole number from 1 to 65535 (587 for STARTTLS, 465 for TLS)".into(),
                ),
            }
        }
        if let Some(security) = self.one_of(email, "security", SMTP_SECURITY)
            && security.1 == "none"
            && host.as_deref().is_some_and(|h| !is_loopback_host(h))
        {
            self.push(
                security.0,
                "security = \"none\" sends mail unencrypted and is only allowed for a loopback smtp_host (127.0.0.1, localhost, ::1); use \"starttls\" or \"tls\"".into(),
            );
        }
        if let Some((item, from)) = self.string(email, "from")
            && let Err(why) = check_mailbox(from)
        {
            self.push(item.span(), format!("from {why}"));
        }
        if let Some((key, item)) = email.get_key_value("to") {
            match item.as_array() {
                Some(list) if !list.is_empty() => {
                    for to in list.iter() {
                        match to.as_str() {
                            Some(addr) => {
                                if let Err(why) = check_mailbox(addr) {
                                    self.push(to.span(), format!("to {why}"));
                                }
                            }
                            None => self.push(
                                to.span(),
                                "`to` entries must be strings such as \"ops@example.com\"".into(),
                            ),
                        }
                    }
                }
                _ => self.push(
                    key_span(Some(key), item),
                    "`to` must be a non-empty array of addresses, e.g. [\"ops@example.com\"]"
                        .into(),
                ),
            }
        }
        self.string(email, "username");
        if let Some((item, name)) = self.string(email, "password_env")
            && !is_env_var_name(name)
        {
            self.push(
                item.span(),
                "password_env must be the NAME of an environment variable (e.g. \"SYNCDECK_SMTP_PASSWORD\": letters, digits, underscores), never the password itself".into(),
            );
        }
    }

    /// Report keys not in `allowed`, suggesting the closest allowed one.
    fn unknown_keys(&mut self, t: &dyn TableLike, allowed: &[&str], place: &str) {
        for (name, item) in t.iter() {
            if allowed.contains(&name) {
                continue;
            }
            let hint = match did_you_mean(name, allowed) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            self.push(
                key_span(t.key(name), item),
                format!(
                    "unknown key `{name}` {place}; {hint}allowed: {}",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// The string at `key`, or a diagnostic when it is present but not a string.
    fn string<'a>(&mut self, t: &'a dyn TableLike, key: &str) -> Option<(&'a Item, &'a str)> {
        let item = t.get(key)?;
        match item.as_str() {
            Some(s) => Some((item, s)),
            None => {
                self.push(
                    item.span(),
                    format!("`{key}` must be a string (in double quotes)"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, t: &dyn TableLike, key: &str) {
        if let Some(item) = t.get(key)
            && item.as_bool().is_none()
        {
            self.push(item.span(), format!("`{key}` must be true or false"));
        }
    }

    fn query_cursors(&mut self, t: &dyn TableLike) {
        let max = i64::from(crate::config::defaults::MAX_QUERY_CURSORS);
        if let Some(item) = t.get("query_cursors") {
            match item.as_integer() {
                Some(n) if (1..=max).contains(&n) => {}
                _ => self.push(
                    item.span(),
                    format!(
                        "query_cursors must be a whole number from 1 to {max} (older Salesforce API versions allow a user {max} open query cursors)"
                    ),
                ),
            }
        }
    }

    /// Rows above which an object read from the start goes through Bulk API 2.0 (0: never).
    fn bulk_threshold(&mut self, t: &dyn TableLike) {
        let key = "bulk_threshold";
        if let Some(item) = t.get(key)
            && item.as_integer().is_none_or(|n| n < 0)
        {
            self.push(
                item.span(),
                format!("{key} must be a whole number of records, 0 or more (0 turns Bulk API reads off)"),
            );
        }
    }

    fn percent(&mut self, t: &dyn TableLike, key: &str) {
        if let Some(item) = t.get(key) {
            match item.as_integer() {
                Some(p) if (1..=100).contains(&p) => {}
                Some(p) => self.push(
                    item.span(),
                    format!("{key} is {p}; allowed: a whole number from 1 to 100"),
                ),
                None => self.push(
                    item.span(),
                    format!("{key} must be a whole number from 1 to 100"),
                ),
            }
        }
    }

    fn one_of<'a>(
        &mut self,
        t: &'a dyn TableLike,
        key: &str,
        allowed: &[&str],
    ) -> Option<(Option<Range<usize>>, &'a str)> {
        let (item, s) = self.string(t, key)?;
        if allowed.contains(&s) {
            Some((item.span(), s))
        } else {
            self.push(
                item.span(),
                format!(
                    "{key} \"{s}\" is not allowed; allowed: {}",
                    allowed
                        .iter()
                        .map(|a| format!("\"{a}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            None
        }
    }
}

fn key_span(key: Option<&Key>, item: &Item) -> Option<Range<usize>> {
    key.and_then(Key::span).or_else(|| item.span())
}

/// `host:port/database` of a PostgreSQL url (the default port spelled out), to tell
/// whether two urls reach the same database whatever user or options they name.
fn database_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())?
        .to_ascii_lowercase();
    let database = url.path().trim_start_matches('/');
    if database.is_empty() {
        return None;
    }
    Some(format!("{host}:{}/{database}", url.port().unwrap_or(5432)))
}

/// 1-based line and character column of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Source ids name files, so they stay boring: `acme-prod`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_api_version(s: &str) -> bool {
    s.split_once('.').is_some_and(|(major, minor)| {
        !major.is_empty() && major.chars().all(|c| c.is_ascii_digit()) && minor == "0"
    })
}

fn is_env_var_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A PostgreSQL url the store can use: `postgres://` or `postgresql://`, a host and a
/// database, no password (it belongs in the variable `password_env` names), a known sslmode.
pub fn check_store_url(s: &str) -> Result<(), String> {
    let url = url::Url::parse(s).map_err(|e| {
        format!("store url \"{s}\" is not a URL ({e}); write it like \"postgres://syncdeck@db.internal:5432/crm\"")
    })?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "store url must start with postgres:// (got {}://)",
            url.scheme()
        ));
    }
    if url.password().is_some() {
        return Err(
            "store url must not contain a password; put it in an environment variable and name that variable in `password_env`".into(),
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(
            "store url has no host; write it like \"postgres://syncdeck@db.internal/crm\"".into(),
        );
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err("store url names no database; end it with /DATABASE".into());
    }
    for (k, v) in url.query_pairs() {
        if k == "sslmode"
            && !matches!(
                v.as_ref(),
                "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"
            )
        {
            return Err(format!(
                "sslmode \"{v}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ));
        }
    }
    Ok(())
}

/// A schema name psql users can type unquoted.
fn is_schema_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// 127.0.0.0/8, ::1 or localhost.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// https anywhere, or http(s) to a loopback sandbox.
pub fn check_login_url(s: &str) -> Result<(), String> {
    const ALLOWED: &str = "use https://login.salesforce.com, https://test.salesforce.com, your https://<domain>.my.salesforce.com, or a loopback sandbox such as http://127.0.0.1:8443";
    let url = url::Url::parse(s)
        .map_err(|e| format!("login_url \"{s}\" is not a URL ({e}); {ALLOWED}"))?;
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        _ if host.is_empty() => Err(format!("login_url \"{s}\" has no host; {ALLOWED}")),
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err(format!(
            "login_url \"{s}\" uses plain http to a non-loopback host, which would send credentials unencrypted; {ALLOWED}"
        )),
        other => Err(format!(
            "login_url \"{s}\" has scheme \"{other}\"; {ALLOWED}"
        )),
    }
}

fn check_webhook_url(s: &str) -> Result<(), String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(format!(
            "webhook url \"{s}\" is not an http(s) URL; write it like \"https://hooks.example.com/syncdeck\""
        )),
    }
}

fn check_mailbox(s: &str) -> Result<(), String> {
    s.parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|_| {
            format!("\"{s}\" is not an email address; write it like \"ops@example.com\" or \"Ops <ops@example.com>\"")
        })
}

/// The closest allowed key within a small edit distance (case differences are free).
fn did_you_mean<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (strsim::levenshtein(&lower, a), *a))
        .filter(|(d, a)| *d <= (a.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests;
