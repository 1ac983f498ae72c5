//! What a sandbox org looks like and how it behaves; `SandboxConfig::default()` is a small
//! built-in org on a random loopback port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Records per object when `records` does not name it.
pub const DEFAULT_RECORDS_PER_OBJECT: u64 = 200;

/// Where the org's object and field definitions come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SchemaSource {
    /// Standard objects embedded in the binary (`assets/sandbox/standard_objects.schema`).
    #[default]
    BuiltIn,
    /// A folder of recorded `describe_*.json` payloads.
    Dir(PathBuf),
    /// `objects` custom objects with `fields_per_object` fields each, for scale tests.
    Synthetic {
        objects: usize,
        fields_per_object: usize,
    },
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub bind: SocketAddr,
    /// Seed of all generated data: same seed, same records.
    pub seed: u64,
    /// Records per object API name; others get `DEFAULT_RECORDS_PER_OBJECT`.
    pub records: BTreeMap<String, u64>,
    pub schema: SchemaSource,
    /// DailyApiRequests maximum.
    pub api_max: u64,
    /// Approve device codes and authorize requests automatically (as the admin user) after
    /// this delay; `Duration::ZERO` approves at once.
    pub auto_approve: Option<Duration>,
    /// Update and delete a few random records this often.
    pub mutate_every: Option<Duration>,
    /// Access tokens unused for this long are rejected with 401 INVALID_SESSION_ID.
    pub token_idle_timeout: Duration,
    /// Device-flow polling interval announced to clients (and enforced with `slow_down`).
    pub device_poll_interval: Duration,
    /// Permit binding to a non-loopback address.
    pub allow_remote: bool,
    /// How fast Bulk API 2.0 query jobs are processed.
    pub bulk: super::bulk::BulkModel,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            records: BTreeMap::new(),
            schema: SchemaSource::BuiltIn,
            api_max: 15_000,
            auto_approve: None,
            mutate_every: None,
            token_idle_timeout: Duration::from_secs(2 * 3600),
            device_poll_interval: Duration::from_secs(5),
            allow_remote: false,
            bulk: super::bulk::BulkModel::default(),
        }
    }
}
