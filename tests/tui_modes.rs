//! The header says where the engine runs; a vanished daemon is reported, not fatal.

mod tui_common;

use syncdeck::tui::EngineMode;
use tui_common::harness;

#[test]
fn header_shows_local_engine_or_the_daemon_pid() {
    let mut h = harness();
    h.app = h.app.with_mode(EngineMode::Local);
    assert!(h.screen_text(80, 24).contains("local engine"));

    let mut h = harness();
    h.app = h.app.with_mode(EngineMode::Attached { pid: 4242 });
    let text = h.screen_text(80, 24);
    assert!(text.contains("attached to daemon pid 4242"), "{text}");
}

#[test]
fn a_vanished_daemon_is_shown_and_commands_are_refused() {
    let mut h = harness();
    h.app = h.app.with_mode(EngineMode::Attached { pid: 4242 });
    h.app
        .on_engine_gone("the daemon closed the connection (it stopped or restarted)");
    let text = h.screen_text(120, 40);
    assert!(text.contains("engine gone"), "{text}");
    assert!(text.contains("The daemon (pid 4242) is gone"), "{text}");
    assert!(text.contains("offers to start a local engine"), "{text}");

    h.keys("n");
    assert!(h.sent().is_empty(), "nothing goes to a daemon that is gone");
    let flash = h.app.flash().unwrap();
    assert!(flash.is_error);
    assert!(flash.text.contains("daemon is gone"), "{}", flash.text);
    h.keys("q");
    assert!(h.app.should_quit());
}
