//! The PostgreSQL tests are optional for `cargo test` and required by CI: `.ci/run` sets
//! `SYNCDECK_TEST_POSTGRES_URL` and `SYNCDECK_REQUIRE_POSTGRES=1`, and then a missing or
//! unreachable server fails here instead of silently leaving those tests out.

use syncdeck::store::Store;
use syncdeck::store::postgres::testing::{REQUIRE_ENV, TestSchema, URL_ENV};

#[test]
fn the_test_server_is_present_when_required() {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    let Some(ts) = TestSchema::new("the_test_server_is_present") else {
        assert!(!required, "{REQUIRE_ENV}=1 but {URL_ENV} is not set");
        return;
    };
    // A usable server: the store can be created in a schema of its own.
    let store = Store::connect_postgres(&ts.target)
        .unwrap_or_else(|e| panic!("{URL_ENV} names an unusable server: {e}"));
    assert_eq!(store.total_rows().unwrap(), 0);
}
