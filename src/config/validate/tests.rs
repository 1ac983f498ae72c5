use super::*;

const VALID: &str = r#"
[[source]]
id = "acme"
name = "Acme"
login_url = "https://login.salesforce.com"
client_id = "cid"
"#;

/// `(line, col, message fragment)` of every diagnostic, in order.
fn positions(text: &str) -> Vec<(usize, usize, String)> {
    parse_str(text)
        .expect_err("expected diagnostics")
        .into_iter()
        .map(|d| (d.line, d.col, d.message))
        .collect()
}

fn assert_diags(text: &str, expected: &[(usize, usize, &str)]) {
    let got = positions(text);
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((line, col, msg), (el, ec, frag)) in got.iter().zip(expected) {
        assert_eq!((*line, *col), (*el, *ec), "{msg}");
        assert!(msg.contains(frag), "{msg:?} should contain {frag:?}");
    }
}

#[test]
fn minimal_source_gets_defaults() {
    let c = parse_str(VALID).unwrap();
    let s = &c.sources[0];
    assert_eq!(s.frequency, Frequency::H1);
    assert_eq!(s.quota_threshold_percent, 80);
    assert_eq!(s.run_quota_percent, 25);
    assert!(s.sync_enabled);
}

#[test]
fn syntax_error_has_line_and_col() {
    assert_diags(
        "[[source]]\nid = \"a\"\nname = \"unterminated\n",
        &[(3, 21, "syntax error: invalid basic string")],
    );
}

#[test]
fn unknown_keys_suggest_the_closest() {
    let text = format!("{VALID}frequncy = \"1h\"\nbanana = 1\n[notifi]\n");
    assert_diags(
        &text,
        &[
            (
                7,
                1,
                "unknown key `frequncy` in [[source]]; did you mean `frequency`?",
            ),
            (
                8,
                1,
                "unknown key `banana` in [[source]]; allowed: id, name",
            ),
            (
                9,
                2,
                "unknown key `notifi` at the top level; did you mean `notify`?",
            ),
        ],
    );
}

#[test]
fn every_value_problem_is_reported_at_once() {
    let text = r#"[[source]]
id = "Acme Prod"
name = "x"
login_url = "http://login.salesforce.com"
client_id = "abc"
frequency = "5 parsecs"
quota_threshold_percent = 0
run_quota_percent = 150
sync_enabled = "yes"
formula_policy = "sometimes"
api_version = "v62"

[source.objects.Account]
fields = ["Name", "Bad__Field__", "Name", 3]

[source.objects."Weird Obj"]
fields = ["Name"]

[[source]]
id = "Acme Prod"
name = "y"
login_url = "ftp://test.salesforce.com"
client_id = "z"
quota_threshold_percent = 150

[[source]]
name = "no id"
"#;
    assert_diags(
        text,
        &[
            (2, 6, "source id \"Acme Prod\" is not a slug"),
            (4, 13, "uses plain http to a non-loopback host"),
            (
                6,
                13,
                "\"5 parsecs\" is not a frequency; allowed: 15m, 30m, 1h",
            ),
            (
                7,
                27,
                "quota_threshold_percent is 0; allowed: a whole number from 1 to 100",
            ),
            (8, 21, "run_quota_percent is 150; allowed"),
            (9, 16, "`sync_enabled` must be true or false"),
            (
                10,
                18,
                "formula_policy \"sometimes\" is not allowed; allowed: \"daily-reread\"",
            ),
            (11, 15, "api_version \"v62\""),
            (
                14,
                19,
                "\"Bad__Field__\" is not a valid Salesforce field name: it ends with an underscore",
            ),
            (14, 35, "field \"Name\" is listed twice in objects.Account"),
            (14, 43, "field names must be strings"),
            (
                16,
                17,
                "\"Weird Obj\" is not a valid Salesforce object name",
            ),
            (20, 6, "source id \"Acme Prod\" is not a slug"),
            (
                20,
                6,
                "duplicate source id \"Acme Prod\" (first used on line 2)",
            ),
            (22, 13, "has scheme \"ftp\""),
            (24, 27, "quota_threshold_percent is 150"),
            (26, 1, "[[source]] is missing `id`"),
            (26, 1, "[[source]] is missing `login_url`"),
            (26, 1, "[[source]] is missing `client_id`"),
        ],
    );
}

#[test]
fn login_url_allows_https_and_loopback_only() {
    for ok in [
        "https://login.salesforce.com",
        "https://acme.my.salesforce.com",
        "http://127.0.0.1:8443",
        "http://127.5.6.7",
        "http://localhost:1234",
        "http://[::1]:9000",
    ] {
        assert!(check_login_url(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://10.0.0.1",
        "http://example.com",
        "login.salesforce.com",
        "https://",
        "file:///etc",
    ] {
        assert!(check_login_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn notify_settings_are_checked() {
    let text = format!(
        r#"{VALID}
[notify.email]
smtp_host = "smtp.x.com"
smtp_port = 70000
from = "not an address"
to = ["a@b.com", "nope"]
password_env = "hunter2 pass!"
security = "none"
usernme = "u"

[notify.webhook]
url = "ftp://x"
"#
    );
    assert_diags(
        &text,
        &[
            (10, 13, "smtp_port must be a whole number from 1 to 65535"),
            (11, 8, "from \"not an address\" is not an email address"),
            (12, 18, "to \"nope\" is not an email address"),
            (
                13,
                16,
                "password_env must be the NAME of an environment variable",
            ),
            (14, 12, "security = \"none\" sends mail unencrypted"),
            (
                15,
                1,
                "unknown key `usernme` in [notify.email]; did you mean `username`?",
            ),
            (18, 7, "webhook url \"ftp://x\" is not an http(s) URL"),
        ],
    );
    let missing =
        format!("{VALID}[notify.email]\nsmtp_host = \"127.0.0.1\"\nsecurity = \"none\"\n");
    assert_diags(
        &missing,
        &[
            (7, 9, "[notify.email] is missing `from`"),
            (7, 9, "[notify.email] is missing `to`"),
        ],
    );
}

#[test]
fn wrong_shapes_are_reported_not_panicked() {
    assert_diags(
        "source = 3\n[notify]\nemail = 4\nwebhook = []\n",
        &[
            (1, 1, "`source` must be written as one [[source]] table"),
            (3, 1, "`notify.email` must be a table"),
            (4, 1, "`notify.webhook` must be a table"),
        ],
    );
}

#[test]
fn load_says_how_to_create_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }));
    let text = err.to_string();
    assert!(text.contains("`syncdeck config init`"), "{text}");
    assert!(text.contains("`syncdeck demo`"), "{text}");
    assert!(!text.contains("config/syncdeck.example.toml"), "{text}");
}

#[test]
fn invalid_file_renders_path_line_col_and_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let text = format!("{VALID}frequency = \"5 parsecs\"\n");
    std::fs::write(&path, &text).unwrap();
    let err = load(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:7:13: frequency \"5 parsecs\" is not a frequency; allowed: 15m, 30m, 1h, 2h, 6h, 12h, 24h, manual",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn example_config_is_valid_and_complete() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/syncdeck.example.toml"
    ));
    let config = load(path).unwrap();
    assert_eq!(config.sources.len(), 2);
    assert_eq!(config.sources[1].login_url, "http://127.0.0.1:8443");
    let email = config.notify.email.as_ref().unwrap();
    assert_eq!(
        email.password_env.as_deref(),
        Some("SYNCDECK_SMTP_PASSWORD")
    );
    assert!(config.notify.webhook.is_some());
    // Every key the validator knows is documented (set) in the example.
    let text = std::fs::read_to_string(path).unwrap();
    for key in SOURCE_KEYS.iter().chain(EMAIL_KEYS).chain(WEBHOOK_KEYS) {
        let documented = text.contains(&format!("\n{key} = "))
            || *key == "objects"
            || (*key == "store" && text.contains("\n# [source.store]\n"));
        assert!(documented, "example does not set `{key}`");
    }
}

#[test]
fn did_you_mean_ignores_far_names() {
    assert_eq!(did_you_mean("frequncy", SOURCE_KEYS), Some("frequency"));
    assert_eq!(did_you_mean("Login_URL", SOURCE_KEYS), Some("login_url"));
    assert_eq!(did_you_mean("zzzzzz", SOURCE_KEYS), None);
}

#[test]
fn verify_schedule_defaults_to_weekly_and_rejects_unknown_values() {
    let c = parse_str(VALID).unwrap();
    assert_eq!(c.sources[0].verify, crate::config::VerifySchedule::Weekly);
    let daily = parse_str(&format!("{VALID}verify = \"off\"\n")).unwrap();
    assert_eq!(daily.sources[0].verify, crate::config::VerifySchedule::Off);
    assert_diags(
        &format!("{VALID}verify = \"hourly\"\n"),
        &[(7, 10, "allowed: \"weekly\", \"daily\", \"off\"")],
    );
}

#[test]
fn a_global_store_reaches_every_source_without_its_own() {
    let text = format!(
        "[store]\nurl = \"postgres://sync@db.internal/crm?sslmode=verify-full\"\npassword_env = \"PG_PASS\"\n{VALID}\
         [[source]]\nid = \"dev\"\nname = \"Dev\"\nlogin_url = \"https://test.salesforce.com\"\nclient_id = \"c\"\n\
         [source.store]\nurl = \"postgres://sync@other/crm\"\nschema = \"crm_dev\"\n"
    );
    let c = parse_str(&text).unwrap();
    let acme = c.sources[0].store.as_ref().unwrap();
    assert_eq!(
        acme.url,
        "postgres://sync@db.internal/crm?sslmode=verify-full"
    );
    assert_eq!(acme.password_env.as_deref(), Some("PG_PASS"));
    assert_eq!(acme.schema_for("acme"), "syncdeck_acme");
    let dev = c.sources[1].store.as_ref().unwrap();
    assert_eq!(dev.schema_for("dev"), "crm_dev");
    assert!(parse_str(VALID).unwrap().sources[0].store.is_none());
}

#[test]
fn store_problems_are_reported_with_what_to_do() {
    let text = "[store]\n\
                url = \"postgres://sync:hunter2@db/crm\"\n\
                password_env = \"not a var\"\n\
                schema = \"crm\"\n\
                [[source]]\nid = \"acme\"\nname = \"A\"\nlogin_url = \"https://login.salesforce.com\"\nclient_id = \"c\"\n\
                [source.store]\nurl = \"mysql://db/crm?sslmode=sometimes\"\nschema = \"Bad-Name\"\n";
    assert_diags(
        text,
        &[
            (2, 7, "must not contain a password"),
            (3, 16, "not an environment variable name"),
            (4, 10, "belongs in [source.store]"),
            (11, 7, "must start with postgres://"),
            (12, 10, "not a plain PostgreSQL name"),
        ],
    );
    assert_diags(
        "[store]\nurl = \"postgres://db/crm?sslmode=sometimes\"\n",
        &[(2, 7, "sslmode \"sometimes\"")],
    );
    assert_diags(
        "[store]\npassword_env = \"X\"\n",
        &[(1, 2, "missing `url`")],
    );
}

#[test]
fn a_fleet_section_is_read_with_its_defaults() {
    let text = format!(
        "[store]\nurl = \"postgres://syncdeck@db.internal/crm\"\n{VALID}\n[fleet]\nurl = \"postgres://syncdeck@db.internal/crm\"\n"
    );
    let fleet = parse_str(&text).unwrap().fleet.unwrap();
    assert_eq!(fleet.schema_name(), "fleet");
    assert_eq!(fleet.lease_seconds, 30);
    assert_eq!(fleet.host, None);
}

#[test]
fn a_fleet_section_is_checked() {
    let text = format!(
        "{VALID}\n[fleet]\nurl = \"postgres://u:secret@db/crm\"\nlease_seconds = 1\nschema = \"Bad-Name\"\nhosts = \"a\"\n"
    );
    let messages: Vec<String> = positions(&text).into_iter().map(|d| d.2).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown key `hosts` in [fleet]; did you mean `host`?")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("fleet url must not contain a password")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("lease_seconds must be a whole number from 2 to 600")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("schema \"Bad-Name\"")),
        "{messages:#?}"
    );
}

#[test]
fn in_a_fleet_every_source_stores_into_the_fleets_database() {
    let fleet = "[fleet]\nurl = \"postgres://fleet@DB.internal:5432/crm?sslmode=require\"\n";
    // Same host, port and database, another user: the lease can be checked in each commit.
    let same = format!("[store]\nurl = \"postgres://syncdeck@db.internal/crm\"\n{VALID}\n{fleet}");
    assert!(parse_str(&same).is_ok(), "{:?}", parse_str(&same).err());
    let elsewhere = format!(
        "{VALID}[source.store]\nurl = \"postgres://syncdeck@db.internal/other\"\n\n{fleet}"
    );
    assert_diags(
        &elsewhere,
        &[(
            8,
            7,
            "source \"acme\" stores into db.internal:5432/other, but the fleet's leases are in db.internal:5432/crm",
        )],
    );
    assert_diags(
        &format!("{VALID}\n{fleet}"),
        &[(
            2,
            1,
            "source \"acme\" has no PostgreSQL store, but in a fleet every source's rows must go to the fleet's database (db.internal:5432/crm)",
        )],
    );
}

#[test]
fn query_cursors_defaults_to_eight_and_must_be_one_to_ten() {
    assert_eq!(parse_str(VALID).unwrap().sources[0].query_cursors, 8);
    let source = |n: &str| {
        format!(
            "[[source]]\nid = \"acme\"\nname = \"x\"\nlogin_url = \"https://login.salesforce.com\"\nclient_id = \"abc\"\nquery_cursors = {n}\n"
        )
    };
    assert_eq!(parse_str(&source("3")).unwrap().sources[0].query_cursors, 3);
    for bad in ["0", "11", "\"many\""] {
        assert_diags(
            &source(bad),
            &[(6, 17, "query_cursors must be a whole number from 1 to 10")],
        );
    }
}

#[test]
fn bulk_threshold_defaults_and_must_be_a_whole_number_of_records() {
    assert_eq!(parse_str(VALID).unwrap().sources[0].bulk_threshold, 200_000);
    let off = parse_str(&format!("{VALID}bulk_threshold = 0\n")).unwrap();
    assert_eq!(off.sources[0].bulk_threshold, 0);
    assert_diags(
        &format!("{VALID}bulk_threshold = -5\n"),
        &[(7, 18, "bulk_threshold must be a whole number of records")],
    );
    assert_diags(
        &format!("{VALID}bulk_threshold = \"lots\"\n"),
        &[(7, 18, "bulk_threshold must be a whole number of records")],
    );
}
