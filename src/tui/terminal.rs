//! Terminal lifecycle and the event loop.
//!
//! Raw mode + alternate screen, restored on normal exit, on panic (hook) and on
//! SIGTERM/SIGHUP (an SSH drop). The loop sleeps until input, a snapshot, a resize or the
//! 1 s tick arrives; it drains everything already queued, then draws at most once, wrapped
//! in synchronized output (DEC 2026) so slow links never show half frames.

use std::io::{self, Stdout, Write};
use std::time::Duration;

use chrono::Utc;
use std::task::Poll;

use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::EventStream;
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::model::Snapshot;
use crate::remote::Disconnect;
use crate::tui::app::App;
use crate::tui::clipboard;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "cannot use the terminal: {0} (syncdeck needs an interactive terminal; use `syncdeck status` in scripts)"
    )]
    Terminal(#[source] io::Error),
    #[error("cannot listen for termination signals: {0}")]
    Signals(#[source] io::Error),
}

/// Frames are at least this far apart; bursts in between coalesce into one draw.
const MIN_FRAME_INTERVAL: Duration = Duration::from_millis(33);
const TICK: Duration = Duration::from_secs(1);

/// Puts the terminal back: leave the alternate screen, show the cursor, cooked mode.
/// Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn setup() -> Result<Terminal<CrosstermBackend<Stdout>>, TuiError> {
    enable_raw_mode().map_err(TuiError::Terminal)?;
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen) {
        restore();
        return Err(TuiError::Terminal(e));
    }
    install_panic_hook();
    Terminal::new(CrosstermBackend::new(out)).map_err(|e| {
        restore();
        TuiError::Terminal(e)
    })
}

/// A panic on the main thread ends the TUI: put the terminal back, then report it. A
/// panic on any other thread (a tokio worker running a background task) is caught by
/// tokio and handled by its owner (a source's worker restarts): the TUI goes on, so its
/// screen is left alone and the panic goes to the log, never onto the screen.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if panic_ends_tui(std::thread::current().name()) {
            restore();
            previous(info);
        } else {
            tracing::error!(
                thread = std::thread::current().name().unwrap_or("unnamed"),
                "background task panicked: {info}"
            );
        }
    }));
}

/// Runs the loop on a real terminal until the app quits or a termination signal arrives.
pub async fn run(
    app: App,
    snapshots: watch::Receiver<Snapshot>,
    disconnected: Option<watch::Receiver<Option<Disconnect>>>,
) -> Result<(), TuiError> {
    let mut sigterm = signal(SignalKind::terminate()).map_err(TuiError::Signals)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(TuiError::Signals)?;
    let mut terminal = setup()?;
    let signals = Signals {
        term: &mut sigterm,
        hup: &mut sighup,
    };
    let result = event_loop(app, snapshots, disconnected, &mut terminal, signals).await;
    restore();
    result
}

/// The TUI's loop runs on the main thread (`block_on`); tokio runs spawned tasks on its
/// worker threads, where a panic is caught and handled by the task's owner.
fn panic_ends_tui(thread: Option<&str>) -> bool {
    thread == Some("main")
}

struct Signals<'a> {
    term: &'a mut tokio::signal::unix::Signal,
    hup: &'a mut tokio::signal::unix::Signal,
}

/// Why the snapshots stopped: the attachment's reason when it says within a moment.
async fn gone_reason(disconnected: Option<watch::Receiver<Option<Disconnect>>>) -> String {
    const FALLBACK: &str = "it stopped publishing";
    let Some(mut rx) = disconnected else {
        return FALLBACK.to_string();
    };
    let wait = rx.wait_for(|r| r.is_some());
    match tokio::time::timeout(Duration::from_secs(1), wait).await {
        Ok(Ok(reason)) => reason
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_else(|| FALLBACK.to_string()),
        _ => FALLBACK.to_string(),
    }
}

async fn event_loop(
    mut app: App,
    mut snapshots: watch::Receiver<Snapshot>,
    mut disconnected: Option<watch::Receiver<Option<Disconnect>>>,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    signals: Signals<'_>,
) -> Result<(), TuiError> {
    let Signals {
        term: sigterm,
        hup: sighup,
    } = signals;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut engine_alive = true;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        // Between frames, never inside one: a copy request goes out as OSC 52.
        if let Some(text) = app.take_clipboard() {
            copy_to_clipboard(terminal, &text)?;
        }
        if dirty {
            let due = last_draw.map(|t| t + MIN_FRAME_INTERVAL);
            if due.is_none_or(|d| d <= Instant::now()) {
                draw(terminal, &app)?;
                last_draw = Some(Instant::now());
                dirty = false;
            }
        }
        if app.should_quit() {
            return Ok(());
        }
        let frame_due = last_draw.map(|t| t + MIN_FRAME_INTERVAL).filter(|_| dirty);
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    dirty |= app.handle_event(&event);
                    // Drain what is already queued (key repeat, paste) into the same frame.
                    while let Some(Ok(event)) = ready_event(&mut events).await {
                        dirty |= app.handle_event(&event);
                    }
                }
                Some(Err(e)) => return Err(TuiError::Terminal(e)),
                None => return Ok(()),
            },
            changed = snapshots.changed(), if engine_alive => match changed {
                Ok(()) => {
                    let snapshot = snapshots.borrow_and_update().clone();
                    dirty |= app.on_snapshot(snapshot);
                }
                Err(_) => {
                    let reason = gone_reason(disconnected.take()).await;
                    tracing::warn!(%reason, "engine snapshot channel closed");
                    app.on_engine_gone(reason);
                    engine_alive = false;
                    dirty = true;
                }
            },
            _ = tick.tick() => dirty |= app.tick(Utc::now()),
            _ = sleep_until_opt(frame_due) => {}
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
        }
    }
}

/// The next event if one is already queued, without waiting. Polls with this task's own
/// waker: crossterm's `EventStream` keeps the first waker it is polled with, so polling it
/// with a no-op waker (`now_or_never`) would leave later key presses unannounced.
async fn ready_event(
    events: &mut EventStream,
) -> Option<io::Result<ratatui::crossterm::event::Event>> {
    std::future::poll_fn(|cx| match events.poll_next_unpin(cx) {
        Poll::Ready(event) => Poll::Ready(event),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Writes the OSC 52 sequence for `text` through the backend (tmux-wrapped inside tmux).
fn copy_to_clipboard(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    text: &str,
) -> Result<(), TuiError> {
    let sequence = clipboard::osc52(text, clipboard::Multiplexer::detect());
    let backend = terminal.backend_mut();
    backend
        .write_all(sequence.as_bytes())
        .and_then(|()| backend.flush())
        .map_err(TuiError::Terminal)
}

fn draw(terminal: &mut Terminal<CrosstermBackend<Stdout>>, app: &App) -> Result<(), TuiError> {
    execute!(terminal.backend_mut(), BeginSynchronizedUpdate).map_err(TuiError::Terminal)?;
    let drawn = terminal.draw(|frame| app.render(frame)).map(|_| ());
    let ended = execute!(terminal.backend_mut(), EndSynchronizedUpdate);
    drawn.and(ended).map_err(TuiError::Terminal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_panic_on_the_main_thread_ends_the_tui() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let task = runtime.spawn(async { panic_ends_tui(std::thread::current().name()) });
        let on_worker = runtime.block_on(task).unwrap();
        assert!(!on_worker, "a tokio worker thread is not the TUI's");
        let on_main = std::thread::Builder::new()
            .name("main".into())
            .spawn(|| panic_ends_tui(std::thread::current().name()))
            .unwrap()
            .join()
            .unwrap();
        assert!(on_main);
    }
}
