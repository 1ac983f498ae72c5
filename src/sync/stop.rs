//! Asking a running sync to stop at the next page boundary, and why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Why a run was asked to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Operator pause (Sync Data off).
    Pause,
    /// The engine or process is shutting down.
    Shutdown,
    /// Another object of the run failed; the rest stop too.
    Failed,
}

/// Cheap to clone; all clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stopped: AtomicBool,
    reason: Mutex<Option<StopReason>>,
}

impl StopSignal {
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// The first reason wins: a shutdown during a pause stays a pause.
    pub fn stop(&self, reason: StopReason) {
        let mut r = self.inner.reason.lock().unwrap_or_else(|e| e.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
        self.inner.stopped.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.inner
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_reason_wins_and_clones_share_the_flag() {
        let s = StopSignal::new();
        let c = s.clone();
        assert!(!c.is_stopped());
        s.stop(StopReason::Pause);
        s.stop(StopReason::Shutdown);
        assert!(c.is_stopped());
        assert_eq!(c.reason(), Some(StopReason::Pause));
    }
}
