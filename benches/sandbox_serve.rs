//! Records per second the sandbox serves for a 200 000-record Account object fetched page by
//! page (2000 rows) over loopback with reqwest — the sandbox must never be the bottleneck of
//! the sync benchmarks (target ≥ 150 000 records/s).
//!
//! Run: `cargo bench --bench sandbox_serve` (release profile).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use syncdeck::sandbox::{Sandbox, SandboxConfig};

const RECORDS: u64 = 200_000;
const ROUNDS: usize = 3;
const SOQL: &str = "SELECT Id, Name, Type, Industry, AnnualRevenue, NumberOfEmployees, Phone, Website, \
BillingStreet, BillingCity, BillingState, BillingPostalCode, BillingCountry, OwnerId, CreatedDate, \
LastModifiedDate, SystemModstamp, IsDeleted FROM Account WHERE SystemModstamp >= 2020-01-01T00:00:00Z \
ORDER BY SystemModstamp, Id";

/// A page as a client reads it: every byte is parsed and validated, records are not kept, so
/// the number reflects the sandbox rather than the client's allocator.
#[derive(Deserialize)]
struct Page {
    #[serde(rename = "nextRecordsUrl")]
    next: Option<String>,
    records: Vec<IgnoredAny>,
}

async fn fetch_all(http: &reqwest::Client, base: &str, token: &str) -> u64 {
    let first = http
        .get(format!("{base}/services/data/v62.0/queryAll/"))
        .query(&[("q", SOQL)])
        .bearer_auth(token)
        .send()
        .await
        .expect("first page");
    let mut page: Page = first.json().await.expect("first page JSON");
    let mut n = 0u64;
    loop {
        n += page.records.len() as u64;
        let Some(next) = page.next.take() else {
            break;
        };
        page = http
            .get(format!("{base}{next}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("page JSON");
    }
    n
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = SandboxConfig {
            records: [("Account".to_string(), RECORDS)].into_iter().collect(),
            auto_approve: Some(Duration::ZERO),
            api_max: 10_000_000,
            ..SandboxConfig::default()
        };
        let handle = Sandbox::start(config).await.expect("sandbox");
        let base = handle.base_url();
        let http = reqwest::Client::new();
        let start: Value = http
            .post(format!("{base}/services/oauth2/token"))
            .form(&[
                ("client_id", handle.client_id().as_str()),
                ("response_type", "device_code"),
            ])
            .send()
            .await
            .expect("device")
            .json()
            .await
            .expect("device JSON");
        let token: Value = http
            .post(format!("{base}/services/oauth2/token"))
            .form(&[
                ("client_id", handle.client_id().as_str()),
                ("grant_type", "device"),
                ("code", start["device_code"].as_str().unwrap_or_default()),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        let token = token["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut best = 0f64;
        for round in 1..=ROUNDS {
            let t = Instant::now();
            let n = fetch_all(&http, &base, &token).await;
            let secs = t.elapsed().as_secs_f64();
            assert_eq!(n, RECORDS, "every record served once");
            let rate = n as f64 / secs;
            best = best.max(rate);
            println!("round {round}: {n} records in {secs:.2} s = {rate:.0} records/s");
        }
        println!("sandbox_serve: best {best:.0} records/s (target >= 150000)");
        handle.shutdown().await;
    });
}
