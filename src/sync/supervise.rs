//! Keeps a source's worker alive: a panic in it becomes that source's Error status
//! ("internal error, see log"), the panic message goes to the log, and a fresh worker
//! takes the same command channel after a backoff, so later commands still work and a
//! panic loop cannot spin. Commands already handed to the worker that panicked are lost
//! with it (the one it panicked on among them); commands sent during the backoff wait for
//! the fresh worker.

use std::any::Any;
use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// Waits before restarts: `first` after a panic, doubling after each further panic up to
/// `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}
/// A worker that ran this long before panicking restarts after the first delay again.
const STABLE_FOR: Duration = Duration::from_secs(600);

/// What a status shows for a worker that panicked; the panic itself is in the log.
pub const INTERNAL_ERROR: &str = "internal error, see log";

/// Run workers made by `start` until one ends normally or the commands end. `start` gets
/// the commands and, on a restart, the previous worker's panic message. `is_shutdown`
/// marks the command after which a worker's end (even a panic) is final.
pub async fn supervise<C, S, F>(
    source: String,
    mut commands: mpsc::UnboundedReceiver<C>,
    is_shutdown: impl Fn(&C) -> bool,
    backoff: Backoff,
    mut start: S,
) where
    C: Send + 'static,
    S: FnMut(mpsc::UnboundedReceiver<C>, Option<String>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let mut panicked: Option<String> = None;
    let mut queued: Vec<C> = Vec::new();
    let mut delay = backoff.first;
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        for cmd in queued.drain(..) {
            let _ = tx.send(cmd);
        }
        let mut tx = Some(tx);
        let mut task = tokio::spawn(start(rx, panicked.take()));
        let started = Instant::now();
        let mut stopping = false;
        let message = loop {
            tokio::select! {
                ended = &mut task => match ended {
                    Err(e) if e.is_panic() && !stopping => break panic_message(e.into_panic()),
                    Err(e) if e.is_panic() => {
                        let panic = panic_message(e.into_panic());
                        tracing::error!(source = %source, %panic, "worker panicked while stopping");
                        return;
                    }
                    _ => return,
                },
                cmd = commands.recv(), if !stopping => match cmd {
                    Some(cmd) => {
                        stopping = is_shutdown(&cmd);
                        if let Some(tx) = &tx {
                            let _ = tx.send(cmd);
                        }
                    }
                    // The engine is gone: closing the channel stops the worker.
                    None => {
                        stopping = true;
                        tx = None;
                    }
                },
            }
        };
        if started.elapsed() >= STABLE_FOR {
            delay = backoff.first;
        }
        tracing::error!(source = %source, panic = %message, ?delay, "worker panicked; restarting it");
        panicked = Some(message);
        let wait = tokio::time::sleep(delay);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                cmd = commands.recv() => match cmd {
                    Some(cmd) if is_shutdown(&cmd) => return,
                    Some(cmd) => queued.push(cmd),
                    None => return,
                },
            }
        }
        delay = delay.saturating_mul(2).min(backoff.max);
    }
}

/// The text of a panic payload (`panic!` gives `&str` or `String`).
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().map_or_else(
            || "a panic without a message".to_string(),
            |s| s.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, PartialEq)]
    enum Cmd {
        Work(&'static str),
        Boom,
        Stop,
    }

    /// A worker that logs what it handles and panics on `Boom`.
    async fn worker(
        mut rx: mpsc::UnboundedReceiver<Cmd>,
        panicked: Option<String>,
        log: Arc<Mutex<Vec<String>>>,
    ) {
        log.lock().unwrap().push(format!("start {panicked:?}"));
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Cmd::Work(w) => log.lock().unwrap().push(w.to_string()),
                Cmd::Boom => panic!("boom from a test worker"),
                Cmd::Stop => return,
            }
        }
    }

    fn fast() -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
        }
    }

    #[tokio::test]
    async fn a_panicking_worker_restarts_with_its_panic_and_keeps_taking_commands() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let task = {
            let log = log.clone();
            tokio::spawn(supervise(
                "s".into(),
                rx,
                |c| *c == Cmd::Stop,
                fast(),
                move |rx, p| worker(rx, p, log.clone()),
            ))
        };
        let starts = |n: usize| {
            let log = log.clone();
            async move {
                while log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|l| l.starts_with("start"))
                    .count()
                    < n
                {
                    tokio::task::yield_now().await;
                }
            }
        };
        for (cmds, restarts) in [
            (vec![Cmd::Work("a"), Cmd::Boom], 2),
            (vec![Cmd::Work("b"), Cmd::Boom], 3),
            (vec![Cmd::Work("c"), Cmd::Stop], 3),
        ] {
            for cmd in cmds {
                tx.send(cmd).unwrap();
            }
            tokio::time::timeout(Duration::from_secs(60), starts(restarts))
                .await
                .expect("hang guard: the worker restarts");
        }
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("hang guard")
            .unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            [
                "start None",
                "a",
                "start Some(\"boom from a test worker\")",
                "b",
                "start Some(\"boom from a test worker\")",
                "c",
            ]
        );
    }

    #[tokio::test]
    async fn the_end_of_the_commands_ends_supervision() {
        let (tx, rx) = mpsc::unbounded_channel::<Cmd>();
        let task = tokio::spawn(supervise(
            "s".into(),
            rx,
            |c| *c == Cmd::Stop,
            fast(),
            |rx, p| worker(rx, p, Arc::default()),
        ));
        drop(tx);
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("hang guard")
            .unwrap();
    }

    #[test]
    fn panic_payloads_become_text() {
        assert_eq!(panic_message(Box::new("static")), "static");
        assert_eq!(panic_message(Box::new(String::from("owned"))), "owned");
        assert_eq!(panic_message(Box::new(7u8)), "a panic without a message");
    }
}
