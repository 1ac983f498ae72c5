//! Query, paging, SOQL and error shapes of the sandbox org, over 127.0.0.1.

mod sandbox_support;

use std::collections::HashSet;

use sandbox_support::*;
use serde_json::Value;

fn ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().iter())
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

fn check_paging(pages: &[Value], total: u64, page_size: usize) {
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p["totalSize"], total, "same totalSize on every page");
        let last = i == pages.len() - 1;
        assert_eq!(p["done"], last);
        let n = p["records"].as_array().unwrap().len();
        if last {
            assert!(
                p.get("nextRecordsUrl").is_none(),
                "no nextRecordsUrl key on the last page"
            );
            assert_eq!(n, total as usize - page_size * i);
        } else {
            assert_eq!(n, page_size);
            let next = p["nextRecordsUrl"].as_str().unwrap();
            let rest = next.strip_prefix("/services/data/v").expect("relative URL");
            let (version, locator) = rest.split_once("/query/").expect("a /query/ URL");
            assert!(
                version.ends_with(".0") && version[..2].parse::<u32>().is_ok(),
                "{next}"
            );
            assert!(!locator.is_empty() && !locator.contains('/'));
        }
    }
    let all = ids(pages);
    assert_eq!(all.len() as u64, total);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len() as u64,
        total,
        "unique Ids"
    );
}

#[tokio::test]
async fn pages_are_complete_unique_and_honour_batch_size() {
    let org = Org::start(config(&[("Account", 12_345)])).await;
    let soql = "SELECT Id, Name, SystemModstamp FROM Account";
    let pages = org.query_all_pages("query", soql, None).await;
    assert_eq!(pages.len(), 7);
    check_paging(&pages, 12_345, 2000);
    let ids_default = ids(&pages);
    assert!(
        ids_default
            .iter()
            .all(|id| id.len() == 18 && id.starts_with("001"))
    );

    let pages = org.query_all_pages("query", soql, Some(500)).await;
    assert_eq!(pages.len(), 25);
    check_paging(&pages, 12_345, 500);
    assert_eq!(ids(&pages), ids_default, "same rows in the same order");

    // Below the minimum the batch size is clamped to 200.
    let r = org
        .query("query", "SELECT Id FROM Account LIMIT 450", Some(10))
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["records"].as_array().unwrap().len(), 200);
    org.handle.shutdown().await;
}

#[tokio::test]
async fn records_have_salesforce_shape() {
    let org = Org::start(config(&[("Account", 50)])).await;
    let r = org
        .query("query", "SELECT Id, Name, BillingAddress, BillingCity, CreatedDate, SystemModstamp, AnnualRevenue, Description FROM Account", None)
        .await;
    assert_eq!(r.headers()["content-type"], JSON_UTF8);
    let body: Value = r.json().await.unwrap();
    let recs = body["records"].as_array().unwrap();
    assert_eq!(recs.len(), 50);
    let mut saw_null = false;
    for rec in recs {
        let id = rec["Id"].as_str().unwrap();
        assert_eq!(rec["attributes"]["type"], "Account");
        assert_eq!(
            rec["attributes"]["url"],
            format!("/services/data/v62.0/sobjects/Account/{id}")
        );
        let keys: Vec<&str> = rec
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys.len(),
            9,
            "every selected field present, explicit nulls included"
        );
        saw_null |= rec["Description"].is_null() || rec["AnnualRevenue"].is_null();
        let addr = rec["BillingAddress"].as_object().unwrap();
        let mut akeys: Vec<&str> = addr.keys().map(String::as_str).collect();
        akeys.sort();
        assert_eq!(
            akeys,
            [
                "city",
                "country",
                "geocodeAccuracy",
                "latitude",
                "longitude",
                "postalCode",
                "state",
                "street"
            ]
        );
        assert_eq!(addr["city"], rec["BillingCity"]);
        let ts = rec["SystemModstamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(),
            "{ts}"
        );
        assert!(ts.ends_with("+0000") && ts.len() == 28, "{ts}");
    }
    assert!(saw_null, "nillable fields are sometimes null");

    let same: Value = org
        .query_json("query", "SELECT Id, Name FROM Account")
        .await;
    let again: Value = org
        .query_json("query", "SELECT Id, Name FROM Account")
        .await;
    assert_eq!(same, again, "deterministic data");
    org.handle.shutdown().await;
}

#[tokio::test]
async fn soql_filters_order_limit_offset_and_count() {
    let org = Org::start(config(&[("Account", 3000), ("Opportunity", 500)])).await;
    let all = org
        .query_all_pages(
            "query",
            "SELECT Id, Name, Industry, AnnualRevenue, SystemModstamp FROM Account",
            None,
        )
        .await;
    let recs: Vec<Value> = all
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().clone())
        .collect();

    // WHERE with AND / OR / NOT / IN / LIKE / comparisons, checked against a local filter.
    let soql = "SELECT Id FROM Account WHERE (Industry IN ('Energy', 'Banking') OR Name LIKE 'acme%') AND NOT AnnualRevenue < 1000000 AND AnnualRevenue != null";
    let got = ids(&org.query_all_pages("query", soql, None).await);
    let want: Vec<String> = recs
        .iter()
        .filter(|r| {
            let ind = r["Industry"].as_str().unwrap_or("");
            let name = r["Name"].as_str().unwrap().to_lowercase();
            let rev = r["AnnualRevenue"].as_f64();
            (ind == "Energy" || ind == "Banking" || name.starts_with("acme"))
                && rev.is_some_and(|v| v >= 1_000_000.0)
        })
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // ORDER BY several fields, OFFSET, LIMIT.
    let body: Value = org.query_json("query", "SELECT Id, Industry, AnnualRevenue FROM Account ORDER BY Industry DESC, AnnualRevenue ASC NULLS LAST LIMIT 30 OFFSET 5").await;
    let rows = body["records"].as_array().unwrap();
    assert_eq!(body["totalSize"], 30);
    assert_eq!(rows.len(), 30);
    for w in rows.windows(2) {
        let (a, b) = (
            w[0]["Industry"].as_str().unwrap_or(""),
            w[1]["Industry"].as_str().unwrap_or(""),
        );
        assert!(a.to_lowercase() >= b.to_lowercase(), "{a} then {b}");
    }

    // Datetime literal forms all select the same rows.
    let mid = recs[1500]["SystemModstamp"].as_str().unwrap().to_string();
    let dt = chrono::DateTime::parse_from_str(&mid, "%Y-%m-%dT%H:%M:%S%.3f%z").unwrap();
    let forms = [
        dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        dt.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string(),
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    ];
    let mut counts = Vec::new();
    for f in &forms {
        let b: Value = org
            .query_json(
                "query",
                &format!("SELECT COUNT() FROM Account WHERE SystemModstamp >= {f}"),
            )
            .await;
        assert_eq!(b["records"].as_array().unwrap().len(), 0);
        assert_eq!(b["done"], true);
        counts.push(b["totalSize"].as_u64().unwrap());
    }
    let expected = recs
        .iter()
        .filter(|r| r["SystemModstamp"].as_str().unwrap() >= mid.as_str())
        .count() as u64;
    assert!(
        counts.iter().all(|c| *c == expected),
        "{counts:?} vs {expected}"
    );

    let b: Value = org
        .query_json("query", "select   count()\n  from   Opportunity")
        .await;
    assert_eq!(b["totalSize"], 500);
    org.handle.shutdown().await;
}

#[tokio::test]
async fn deleted_rows_only_in_query_all_and_locators_work_across_endpoints() {
    let org = Org::start(config(&[("Account", 5000)])).await;
    let mut deleted = 0;
    while deleted == 0 {
        deleted += org.handle.mutate(50).deleted;
    }
    let live = org.handle.record_count("Account").unwrap();
    assert!(live < 5000);
    let q = org
        .query_all_pages("query", "SELECT Id, IsDeleted FROM Account", None)
        .await;
    check_paging(&q, live, 2000);
    let recs: Vec<&Value> = q
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap())
        .collect();
    assert!(recs.iter().all(|r| r["IsDeleted"] == false));

    // A queryAll cursor continues under /query/ whatever version created it.
    let first: Value = org
        .http
        .get(org.url("/services/data/v55.0/queryAll"))
        .query(&[("q", "SELECT Id, IsDeleted FROM Account")])
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["totalSize"], 5000);
    let next = first["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(next.starts_with("/services/data/v55.0/query/"), "{next}");
    let locator = next.rsplit('/').next().unwrap();
    let mut pages = vec![first.clone()];
    let mut url = format!("/services/data/v62.0/query/{locator}?q=SELECT+Name+FROM+Contact");
    loop {
        let p = org.get_json(&url).await;
        let more = p
            .get("nextRecordsUrl")
            .and_then(Value::as_str)
            .map(str::to_string);
        pages.push(p);
        match more {
            Some(n) => url = n,
            None => break,
        }
    }
    check_paging(&pages, 5000, 2000);
    let gone = pages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap())
        .filter(|r| r["IsDeleted"] == true)
        .count() as u64;
    assert_eq!(gone, 5000 - live);
    org.handle.shutdown().await;
}

#[tokio::test]
async fn mutations_advance_systemmodstamp() {
    let org = Org::start(config(&[("Contact", 400)])).await;
    let before = ids(&org
        .query_all_pages(
            "query",
            "SELECT Id FROM Contact ORDER BY SystemModstamp DESC LIMIT 1",
            None,
        )
        .await);
    let latest: Value = org
        .query_json(
            "query",
            &format!(
                "SELECT SystemModstamp FROM Contact WHERE Id = '{}'",
                before[0]
            ),
        )
        .await;
    let latest = latest["records"][0]["SystemModstamp"]
        .as_str()
        .unwrap()
        .replace("+0000", "Z");
    let s = org.handle.mutate(20);
    let changed: Value = org
        .query_json(
            "queryAll",
            &format!("SELECT Id, IsDeleted FROM Contact WHERE SystemModstamp > {latest}"),
        )
        .await;
    let n = changed["totalSize"].as_u64().unwrap();
    assert!(n >= 1 && n <= s.updated + s.deleted, "{n} {s:?}");
    org.handle.shutdown().await;
}

#[tokio::test]
async fn error_shapes_match_salesforce() {
    let org = Org::start(config(&[("Account", 10)])).await;
    let msg = assert_error(
        org.query("query", "SELECT Id FORM Account", None).await,
        400,
        "MALFORMED_QUERY",
    )
    .await;
    assert_eq!(
        msg,
        "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    );
    let msg = assert_error(
        org.query("query", "select count() from XYZZY", None).await,
        400,
        "INVALID_TYPE",
    )
    .await;
    assert!(msg.starts_with("\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported."), "{msg}");
    let msg = assert_error(
        org.query("query", "SELECT Id, Bogus__c FROM Account", None)
            .await,
        400,
        "INVALID_FIELD",
    )
    .await;
    assert!(
        msg.contains("ERROR at Row:1:Column:12\nNo such column 'Bogus__c' on entity 'Account'"),
        "{msg}"
    );
    let msg = assert_error(
        org.query(
            "query",
            "SELECT Id FROM Account WHERE CreatedDate > '2024-01-01'",
            None,
        )
        .await,
        400,
        "INVALID_FIELD",
    )
    .await;
    assert!(
        msg.contains("must be of type dateTime and should not be enclosed in quotes"),
        "{msg}"
    );
    assert_error(
        org.get("/services/data/v62.0/sobjects/Nope__c/describe")
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        org.get("/services/data/v62.0/nothing-here").await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        org.get("/services/data/v62.0/query/nonsense-2000").await,
        400,
        "INVALID_QUERY_LOCATOR",
    )
    .await;
    let r = org
        .get_with_token("/services/data/v62.0/limits", "00Dbogus!token")
        .await;
    let msg = assert_error(r, 401, "INVALID_SESSION_ID").await;
    assert_eq!(msg, "Session expired or invalid");
    let r = org.get_anonymous("/services/data/v62.0/limits").await;
    assert_error(r, 401, "INVALID_SESSION_ID").await;
    org.handle.shutdown().await;
}

#[tokio::test]
async fn usage_header_versions_limits_and_record_count() {
    let org = Org::start(config(&[("Account", 42)])).await;
    let v = org.get_anonymous("/services/data/").await;
    assert!(
        v.headers().get("sforce-limit-info").is_none(),
        "versions are free"
    );
    assert_eq!(v.headers()["content-type"], JSON_UTF8);
    let versions: Value = v.json().await.unwrap();
    let list: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_str().unwrap())
        .collect();
    for want in ["55.0", "58.0", "62.0"] {
        assert!(list.contains(&want));
    }
    assert_eq!(
        versions.as_array().unwrap().last().unwrap()["url"],
        "/services/data/v62.0"
    );

    let r1 = org.get("/services/data/v62.0/limits").await;
    let (u1, max) = usage(&r1);
    assert_eq!(max, 15_000);
    let limits: Value = r1.json().await.unwrap();
    assert_eq!(limits["DailyApiRequests"]["Max"], 15_000);
    assert_eq!(limits["DailyApiRequests"]["Remaining"], 15_000 - u1);
    let r2 = org.get("/services/data/v62.0/limits/").await;
    assert_eq!(usage(&r2).0, u1 + 1);
    let _ = org.get_anonymous("/__sandbox/counters").await;
    let rc = org
        .get("/services/data/v62.0/limits/recordCount?sObjects=Account,Contact")
        .await;
    assert_eq!(usage(&rc).0, u1 + 2, "controls are not counted");
    let rc: Value = rc.json().await.unwrap();
    assert_eq!(rc["sObjects"].as_array().unwrap().len(), 2);
    assert!(
        rc["sObjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "Account" && o["count"] == 42)
    );
    org.handle.shutdown().await;
}

#[tokio::test]
async fn composite_batch_counts_each_subrequest() {
    let org = Org::start(config(&[("Account", 5)])).await;
    let before = org.handle.usage().used;
    let body = serde_json::json!({"batchRequests": [
        {"method": "GET", "url": "v62.0/sobjects/Account/describe"},
        {"method": "GET", "url": "v62.0/sobjects/Contact/describe"},
        {"method": "GET", "url": "v62.0/sobjects/Nope/describe"},
        {"method": "GET", "url": "v62.0/query?q=SELECT+COUNT()+FROM+Account"},
    ], "haltOnError": false});
    let r = org
        .http
        .post(org.url("/services/data/v62.0/composite/batch"))
        .bearer_auth(&org.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(usage(&r).0, before + 4);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["hasErrors"], true);
    let res = b["results"].as_array().unwrap();
    assert_eq!(res[0]["statusCode"], 200);
    assert_eq!(res[0]["result"]["name"], "Account");
    assert_eq!(res[2]["statusCode"], 404);
    assert_eq!(res[2]["result"][0]["errorCode"], "NOT_FOUND");
    assert_eq!(res[3]["result"]["totalSize"], 5);
    let too_many: Vec<Value> = (0..26)
        .map(|_| serde_json::json!({"method": "GET", "url": "v62.0/limits"}))
        .collect();
    let r = org
        .http
        .post(org.url("/services/data/v62.0/composite/batch"))
        .bearer_auth(&org.token)
        .json(&serde_json::json!({"batchRequests": too_many}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "INVALID_BATCH_REQUEST").await;
    org.handle.shutdown().await;
}

/// A filter nested deeper than the parser allows is a MALFORMED_QUERY, not a stack
/// overflow that aborts the process serving it (and the TUI with it in `demo`).
#[tokio::test]
async fn deeply_nested_filters_are_malformed_queries() {
    let org = Org::start(config(&[("Account", 10)])).await;
    let nots = format!(
        "SELECT Id FROM Account WHERE {}Name = 'x'",
        "NOT ".repeat(30_000 / 4)
    );
    let parens = format!(
        "SELECT Id FROM Account WHERE {}Name = 'x'{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    for soql in [nots, parens] {
        let msg = assert_error(
            org.query("query", &soql, None).await,
            400,
            "MALFORMED_QUERY",
        )
        .await;
        assert!(
            msg.contains("nested too deeply"),
            "{}",
            &msg[msg.len().saturating_sub(200)..]
        );
    }
    // Still serving.
    let ok: Value = org.query_json("query", "SELECT Id FROM Account").await;
    assert_eq!(ok["totalSize"], 10);
    org.handle.shutdown().await;
}
