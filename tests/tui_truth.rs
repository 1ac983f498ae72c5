//! The table tells the truth about what a key did (issue 12 part 2).

mod tui_common;

use syncdeck::model::Command;
use tui_common::harness;

#[test]
fn n_on_a_paused_source_says_it_is_paused_and_how_to_resume() {
    let mut h = harness();
    // Acme, Globex, Initech (paused).
    h.keys("jj");
    assert!(h.screen_text(120, 40).contains("Not Syncing"));
    h.keys("n");
    let flash = h.app.flash().expect("a message");
    assert!(flash.text.contains("paused"), "{}", flash.text);
    assert!(flash.text.contains("press p to resume"), "{}", flash.text);
    assert!(!flash.text.contains("Sync requested"), "{}", flash.text);
    assert!(
        !h.sent()
            .iter()
            .any(|c| matches!(c, Command::SyncNow { .. })),
        "no run is asked for"
    );

    // An active source still gets its run.
    h.keys("gg");
    h.keys("n");
    assert!(
        h.sent()
            .iter()
            .any(|c| matches!(c, Command::SyncNow { source, .. } if source == "acme"))
    );
}
