//! Time for the engine, injectable so scheduling is tested without sleeping.
//!
//! Everything that waits goes through [`Clock::sleep_until`] with a wall-clock deadline:
//! schedules are expressed in UTC (next run at 14:00), and a test drives a
//! [`ManualClock`] forward instead of waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A boxed future as returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Source of "now" and of timed waits.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Completes once `now() >= deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
}

/// The clock shared by the engine's tasks.
pub type SharedClock = Arc<dyn Clock>;

/// Real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

/// Longest single tokio sleep; re-checking the wall clock this often keeps deadlines
/// honest across suspend/resume and clock adjustments.
const MAX_SLEEP_SLICE: std::time::Duration = std::time::Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        Box::pin(async move {
            loop {
                let left = match (deadline - Utc::now()).to_std() {
                    Ok(d) if !d.is_zero() => d,
                    _ => return,
                };
                tokio::time::sleep(left.min(MAX_SLEEP_SLICE)).await;
            }
        })
    }
}

/// A clock that only moves when a test tells it to.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now: watch::Sender::new(start),
        })
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.now.send_modify(|t| *t += by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_replace(to);
    }

    /// Number of pending `sleep_until` futures: lets a test wait until a task is parked
    /// before moving time.
    pub fn sleepers(&self) -> usize {
        self.now.receiver_count()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= deadline {
                    return;
                }
                if rx.changed().await.is_err() {
                    // The clock is gone: time never moves again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn manual_sleep_completes_only_when_time_reaches_deadline() {
        let clock = ManualClock::new(t0());
        let deadline = t0() + chrono::Duration::minutes(15);
        let sleep = tokio::spawn(clock.sleep_until(deadline));
        while clock.sleepers() == 0 {
            tokio::task::yield_now().await;
        }
        clock.advance(chrono::Duration::minutes(14));
        tokio::task::yield_now().await;
        assert!(!sleep.is_finished());
        clock.advance(chrono::Duration::minutes(1));
        sleep.await.unwrap();
        assert_eq!(clock.now(), deadline);
        assert_eq!(clock.sleepers(), 0);
    }

    /// Under paused time a sleep that waited at all would let the one-second timeout fire
    /// first, so only an immediate return passes.
    #[tokio::test(start_paused = true)]
    async fn past_deadline_returns_at_once() {
        let at_once = std::time::Duration::from_secs(1);
        let clock = ManualClock::new(t0());
        let manual = clock.sleep_until(t0() - chrono::Duration::seconds(1));
        assert!(tokio::time::timeout(at_once, manual).await.is_ok());
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(clock.now(), t0(), "a past deadline does not move the clock");
        let system = SystemClock.sleep_until(Utc::now() - chrono::Duration::seconds(1));
        assert!(tokio::time::timeout(at_once, system).await.is_ok());
    }
}
