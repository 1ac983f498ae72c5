//! The typed configuration model. Defaults live here and only here (see `defaults`).
//!
//! The file format is documented by `config/syncdeck.example.toml`; validation with
//! line:col diagnostics lives in `validate.rs`, comment-preserving edits in `editor.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Every default of the configuration, in one place.
pub mod defaults {
    use super::{FormulaPolicy, Frequency, VerifySchedule};
    pub const SYNC_ENABLED: bool = true;
    pub const FREQUENCY: Frequency = Frequency::H1;
    pub const QUOTA_THRESHOLD_PERCENT: u8 = 80;
    pub const RUN_QUOTA_PERCENT: u8 = 25;
    pub const FORMULA_POLICY: FormulaPolicy = FormulaPolicy::DailyReread;
    pub const VERIFY: VerifySchedule = VerifySchedule::Weekly;
    /// Query cursors a source's sliced reads may hold open at once. API v55.0 and earlier
    /// allow a user 10 and release the oldest beyond that (later versions list no limit);
    /// two stay free for the ordinary reads of other objects running alongside.
    pub const QUERY_CURSORS: u8 = 8;
    /// The most `query_cursors` may be: the per-user limit of API v55.0 and earlier.
    pub const MAX_QUERY_CURSORS: u8 = 10;
    pub const SMTP_PORT: u16 = 587;
    pub const LEASE_SECONDS: u32 = 30;
    /// Objects holding more rows than this are read through Bulk API 2.0 when read from
    /// the start (first sync, full run, backfill). Below it such a read goes through
    /// parallel REST slices, which finish sooner than a Bulk job's queue and processing
    /// and cost about one call per 2 000 rows (about 110 calls at 200 000, a rounding
    /// error in a daily allowance); above it Bulk keeps the calls near 20 whatever the
    /// size.
    pub const BULK_THRESHOLD: u64 = 200_000;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// `[store]`: the PostgreSQL destination of every source without its own
    /// `[source.store]`; absent, each source syncs into its SQLite file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreConfig>,
    /// `[fleet]`: daemons on several hosts share the sources through leases in PostgreSQL;
    /// absent, a daemon runs every source it is configured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetConfig>,
}

impl Config {
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// Give every source without its own `[source.store]` the top-level `[store]`, so a
    /// `SourceConfig` alone says where its rows go. Applied whenever a file is parsed.
    pub fn with_store_defaults(mut self) -> Config {
        if let Some(global) = &self.store {
            for s in &mut self.sources {
                if s.store.is_none() {
                    s.store = Some(global.clone());
                }
            }
        }
        self
    }
}

/// A PostgreSQL destination: `[store]` (all sources) or `[source.store]` (one source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database?sslmode=require`; never a password.
    pub url: String,
    /// The environment variable holding the password (the file never holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The source's schema; by default `syncdeck_<source id>` (dashes as underscores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl StoreConfig {
    /// The schema `source_id`'s tables live in.
    pub fn schema_for(&self, source_id: &str) -> String {
        self.schema
            .clone()
            .unwrap_or_else(|| default_store_schema(source_id))
    }
}

/// `[fleet]`: where the leases live and how long one lasts without a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetConfig {
    /// The PostgreSQL database holding the leases (usually the one the rows go to).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The schema of the leases table; `fleet` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// This daemon's name in the fleet (shown as the owner); the machine's host name by
    /// default. Two daemons on one machine need different names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Seconds a lease lasts without a heartbeat: a dead daemon's sources are taken over
    /// within this plus a third of it.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u32,
}

impl FleetConfig {
    pub fn schema_name(&self) -> String {
        self.schema.clone().unwrap_or_else(|| "fleet".to_string())
    }
}

fn default_lease_seconds() -> u32 {
    defaults::LEASE_SECONDS
}

/// `acme-prod` → `syncdeck_acme_prod`: a lowercase identifier needing no quotes in psql.
pub fn default_store_schema(source_id: &str) -> String {
    format!("syncdeck_{}", source_id.replace('-', "_"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    Salesforce,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Salesforce => "Salesforce",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceConfig {
    /// Slug, unique across sources; names the store and credentials files.
    pub id: String,
    /// Human name shown in the table.
    pub name: String,
    #[serde(default)]
    pub kind: SourceKind,
    /// Login host (https://login.salesforce.com, https://test.salesforce.com, a My Domain
    /// host) or a loopback sandbox URL.
    pub login_url: String,
    /// Connected-app consumer key.
    pub client_id: String,
    /// Pin an API version such as "62.0"; newest supported when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default = "default_sync_enabled")]
    pub sync_enabled: bool,
    #[serde(default = "default_frequency")]
    pub frequency: Frequency,
    #[serde(default = "default_quota_threshold")]
    pub quota_threshold_percent: u8,
    #[serde(default = "default_run_quota")]
    pub run_quota_percent: u8,
    #[serde(default = "default_formula_policy")]
    pub formula_policy: FormulaPolicy,
    /// Query cursors this source's sliced reads may hold at once (1 to 10; below 3 reads
    /// are never sliced). See README, "Parallel slices".
    #[serde(
        default = "default_query_cursors",
        skip_serializing_if = "is_default_query_cursors"
    )]
    pub query_cursors: u8,
    /// How often the daemon compares the store's Ids with the org's (`syncdeck verify`).
    #[serde(
        default = "default_verify",
        skip_serializing_if = "VerifySchedule::is_default"
    )]
    pub verify: VerifySchedule,
    /// Objects with more rows than this are read through Bulk API 2.0 when read from the
    /// start; 0 turns Bulk reads off.
    #[serde(
        default = "default_bulk_threshold",
        skip_serializing_if = "is_default_bulk_threshold"
    )]
    pub bulk_threshold: u64,
    /// Selected fields per object, keyed by object API name.
    #[serde(default)]
    pub objects: BTreeMap<String, ObjectSelection>,
    /// `[source.store]`: this source's PostgreSQL destination (else the top-level
    /// `[store]`, else its SQLite file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectSelection {
    #[serde(default)]
    pub fields: Vec<String>,
}

fn default_bulk_threshold() -> u64 {
    defaults::BULK_THRESHOLD
}
fn is_default_bulk_threshold(n: &u64) -> bool {
    *n == defaults::BULK_THRESHOLD
}
fn default_verify() -> VerifySchedule {
    defaults::VERIFY
}

/// When the daemon runs an Id reconcile of a source (read-only: it reports, never repairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifySchedule {
    Daily,
    Weekly,
    Off,
}

impl VerifySchedule {
    pub const ALLOWED: [&'static str; 3] = ["weekly", "daily", "off"];

    pub fn is_default(&self) -> bool {
        *self == defaults::VERIFY
    }

    pub fn label(self) -> &'static str {
        match self {
            VerifySchedule::Daily => "daily",
            VerifySchedule::Weekly => "weekly",
            VerifySchedule::Off => "off",
        }
    }

    /// Time between scheduled verifications; `None` when off.
    pub fn every(self) -> Option<chrono::Duration> {
        match self {
            VerifySchedule::Daily => Some(chrono::Duration::days(1)),
            VerifySchedule::Weekly => Some(chrono::Duration::days(7)),
            VerifySchedule::Off => None,
        }
    }
}

fn default_sync_enabled() -> bool {
    defaults::SYNC_ENABLED
}
fn default_frequency() -> Frequency {
    defaults::FREQUENCY
}
fn default_quota_threshold() -> u8 {
    defaults::QUOTA_THRESHOLD_PERCENT
}
fn default_run_quota() -> u8 {
    defaults::RUN_QUOTA_PERCENT
}
fn default_query_cursors() -> u8 {
    defaults::QUERY_CURSORS
}
fn is_default_query_cursors(n: &u8) -> bool {
    *n == defaults::QUERY_CURSORS
}
fn default_formula_policy() -> FormulaPolicy {
    defaults::FORMULA_POLICY
}

/// How often a source syncs. Serialized as "15m", "30m", "1h", ..., "manual".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Frequency {
    M15,
    M30,
    H1,
    H2,
    H6,
    H12,
    H24,
    Manual,
}

impl Frequency {
    pub const ALL: [Frequency; 8] = [
        Frequency::M15,
        Frequency::M30,
        Frequency::H1,
        Frequency::H2,
        Frequency::H6,
        Frequency::H12,
        Frequency::H24,
        Frequency::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::M15 => "15m",
            Frequency::M30 => "30m",
            Frequency::H1 => "1h",
            Frequency::H2 => "2h",
            Frequency::H6 => "6h",
            Frequency::H12 => "12h",
            Frequency::H24 => "24h",
            Frequency::Manual => "manual",
        }
    }

    /// Human label for menus ("Every 15 minutes", "Manual only").
    pub fn label(self) -> &'static str {
        match self {
            Frequency::M15 => "Every 15 minutes",
            Frequency::M30 => "Every 30 minutes",
            Frequency::H1 => "Every hour",
            Frequency::H2 => "Every 2 hours",
            Frequency::H6 => "Every 6 hours",
            Frequency::H12 => "Every 12 hours",
            Frequency::H24 => "Every 24 hours",
            Frequency::Manual => "Manual only",
        }
    }

    /// Interval between scheduled runs; `None` for manual.
    pub fn interval(self) -> Option<std::time::Duration> {
        let minutes = match self {
            Frequency::M15 => 15,
            Frequency::M30 => 30,
            Frequency::H1 => 60,
            Frequency::H2 => 120,
            Frequency::H6 => 360,
            Frequency::H12 => 720,
            Frequency::H24 => 1440,
            Frequency::Manual => return None,
        };
        Some(std::time::Duration::from_secs(minutes * 60))
    }

    /// Scheduled runs per day; 0 for manual.
    pub fn runs_per_day(self) -> u32 {
        self.interval()
            .map(|d| (24 * 3600 / d.as_secs()) as u32)
            .unwrap_or(0)
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a frequency; allowed: 15m, 30m, 1h, 2h, 6h, 12h, 24h, manual")]
pub struct BadFrequency(pub String);

impl FromStr for Frequency {
    type Err = BadFrequency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| BadFrequency(s.to_string()))
    }
}

impl TryFrom<String> for Frequency {
    type Error = BadFrequency;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Frequency> for String {
    fn from(f: Frequency) -> String {
        f.as_str().to_string()
    }
}

/// Formula fields change without moving SystemModstamp, so incremental sync alone lets
/// them go stale. The policy says how to keep them fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormulaPolicy {
    /// Re-read just the formula columns of every row once a day (default).
    DailyReread,
    /// Re-read formula columns on every run (costly on large objects).
    EveryRun,
    /// Accept staleness: formula columns only change when the row changes.
    Incremental,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotifyConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailConfig {
    pub smtp_host: String,
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    /// "starttls" (default), "tls" (implicit, port 465) or "none" (loopback test sinks only).
    #[serde(default)]
    pub security: SmtpSecurity,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// NAME of the environment variable holding the SMTP password; never the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
}

fn default_smtp_port() -> u16 {
    defaults::SMTP_PORT
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookConfig {
    pub url: String,
}
