//! When a source's next run happens: per frequency (manual included), operator SyncNow,
//! backoff after failures, and holds (quota recovery) that push runs out.
//!
//! Pure state and arithmetic; the worker asks [`Scheduler::next_wake`] how long to sleep
//! and [`Scheduler::take_due`] whether to run, and reports what happened.

use chrono::{DateTime, Duration, Utc};

use crate::config::Frequency;

/// First retry after a failed run; doubles per consecutive failure up to [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::minutes(1);
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// What the scheduler decided to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRun {
    /// Operator asked to discard cursors and re-read everything.
    pub full: bool,
    /// Started by the operator rather than by the schedule.
    pub requested: bool,
}

/// Why a SyncNow was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncNowRefused {
    AlreadyRunning,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    frequency: Frequency,
    last_started: Option<DateTime<Utc>>,
    running: bool,
    requested: Option<DueRun>,
    consecutive_failures: u32,
    /// No scheduled run before this instant (backoff or quota hold).
    hold_until: Option<DateTime<Utc>>,
}

impl Scheduler {
    /// `last_started` comes from the store's run history so a restart keeps the rhythm.
    pub fn new(frequency: Frequency, last_started: Option<DateTime<Utc>>) -> Scheduler {
        Scheduler {
            frequency,
            last_started,
            running: false,
            requested: None,
            consecutive_failures: 0,
            hold_until: None,
        }
    }

    /// The store's last run start, learnt after the scheduler was made (a store connected
    /// in the background); a run started since then counts instead.
    pub fn learn_last_started(&mut self, last_started: Option<DateTime<Utc>>) {
        if self.last_started.is_none() {
            self.last_started = last_started;
        }
    }

    pub fn set_frequency(&mut self, frequency: Frequency) {
        self.frequency = frequency;
    }

    /// An operator request is waiting to start.
    pub fn has_request(&self) -> bool {
        self.requested.is_some()
    }

    /// When the schedule alone would start the next run; `None` for manual frequency.
    /// A source that never ran is due at once (the first sync starts right after setup).
    /// Anchored on the previous start so long runs do not make the schedule drift.
    pub fn next_scheduled(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let interval = Duration::from_std(self.frequency.interval()?).ok()?;
        let base = match self.last_started {
            None => now,
            Some(last) => (last + interval).max(now),
        };
        Some(match self.hold_until {
            Some(hold) => base.max(hold),
            None => base,
        })
    }

    /// The instant the worker should wake up to run, if any; an operator request is due now.
    pub fn next_wake(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.running {
            return None;
        }
        if self.requested.is_some() {
            return Some(now);
        }
        self.next_scheduled(now)
    }

    /// Operator SyncNow: starts at once unless a run is going.
    pub fn request_now(&mut self, full: bool) -> Result<(), SyncNowRefused> {
        if self.running {
            return Err(SyncNowRefused::AlreadyRunning);
        }
        let full = full || self.requested.is_some_and(|r| r.full);
        self.requested = Some(DueRun {
            full,
            requested: true,
        });
        Ok(())
    }

    /// Returns the run to start now, if one is due, and marks it running.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Option<DueRun> {
        if self.running {
            return None;
        }
        let due = match self.requested.take() {
            Some(r) => r,
            None if self.next_scheduled(now).is_some_and(|t| t <= now) => DueRun {
                full: false,
                requested: false,
            },
            None => return None,
        };
        self.running = true;
        self.last_started = Some(now);
        Some(due)
    }

    /// A run ended. Failures back off exponentially; success clears the backoff.
    pub fn finished(&mut self, now: DateTime<Utc>, succeeded: bool) {
        self.running = false;
        if succeeded {
            self.consecutive_failures = 0;
            self.hold_until = None;
        } else {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            let retry = now + backoff(self.consecutive_failures);
            // A longer hold (quota recovery) is never shortened by a failure's backoff.
            self.hold_until = Some(self.hold_until.map_or(retry, |h| h.max(retry)));
        }
    }

    /// Keep scheduled runs from starting before `until` (quota recovery); SyncNow still works.
    pub fn hold(&mut self, until: DateTime<Utc>) {
        self.hold_until = Some(until);
    }

    pub fn release_hold(&mut self) {
        self.hold_until = None;
    }
}

/// Wait before retrying after `failures` consecutive failed runs (1 → 1 min, 2 → 2 min,
/// ... capped at an hour).
pub fn backoff(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::zero();
    }
    let factor = 1i32 << failures.saturating_sub(1).min(16);
    (BASE_BACKOFF * factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap()
    }

    #[test]
    fn first_run_is_due_immediately_then_every_interval() {
        let mut s = Scheduler::new(Frequency::M15, None);
        assert_eq!(s.next_wake(t(9, 0)), Some(t(9, 0)));
        assert_eq!(
            s.take_due(t(9, 0)),
            Some(DueRun {
                full: false,
                requested: false
            })
        );
        assert_eq!(s.next_wake(t(9, 1)), None, "nothing while running");
        s.finished(t(9, 3), true);
        assert_eq!(s.next_wake(t(9, 3)), Some(t(9, 15)));
        assert_eq!(s.take_due(t(9, 14)), None);
        assert!(s.take_due(t(9, 15)).is_some());
    }

    #[test]
    fn every_frequency_uses_its_interval_from_the_last_start() {
        for f in Frequency::ALL {
            let s = Scheduler::new(f, Some(t(0, 0)));
            let expected = f
                .interval()
                .map(|i| t(0, 0) + Duration::from_std(i).unwrap());
            assert_eq!(s.next_scheduled(t(0, 1)), expected, "{f}");
        }
    }

    #[test]
    fn overdue_schedule_after_restart_runs_now() {
        let s = Scheduler::new(Frequency::H1, Some(t(1, 0)));
        assert_eq!(s.next_wake(t(5, 30)), Some(t(5, 30)));
    }

    #[test]
    fn manual_runs_only_on_request() {
        let mut s = Scheduler::new(Frequency::Manual, None);
        assert_eq!(s.next_wake(t(9, 0)), None);
        assert_eq!(s.take_due(t(23, 0)), None);
        s.request_now(false).unwrap();
        assert_eq!(s.next_wake(t(23, 0)), Some(t(23, 0)));
        assert!(s.take_due(t(23, 0)).unwrap().requested);
        s.finished(t(23, 1), true);
        assert_eq!(s.next_wake(t(23, 2)), None);
    }

    #[test]
    fn sync_now_is_refused_while_running_and_keeps_full_flag() {
        let mut s = Scheduler::new(Frequency::H24, Some(t(8, 0)));
        s.request_now(false).unwrap();
        s.request_now(true).unwrap();
        s.request_now(false).unwrap();
        let due = s.take_due(t(9, 0)).unwrap();
        assert!(due.full && due.requested);
        assert_eq!(s.request_now(false), Err(SyncNowRefused::AlreadyRunning));
        s.finished(t(9, 5), true);
        assert_eq!(s.next_wake(t(9, 5)), Some(t(9, 0) + Duration::hours(24)));
    }

    #[test]
    fn failures_back_off_exponentially_and_success_resets() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(4), Duration::minutes(8));
        assert_eq!(backoff(30), MAX_BACKOFF);

        let mut s = Scheduler::new(Frequency::M15, None);
        let mut now = t(10, 0);
        let mut starts = Vec::new();
        for _ in 0..6 {
            now = s.next_wake(now).unwrap();
            s.take_due(now).unwrap();
            starts.push(now);
            s.finished(now, false);
        }
        // The interval wins while the backoff is shorter (1, 2, 4, 8 min), then the
        // backoff (16, 32 min) pushes runs out.
        assert_eq!(
            starts,
            vec![
                t(10, 0),
                t(10, 15),
                t(10, 30),
                t(10, 45),
                t(11, 0),
                t(11, 16)
            ]
        );
        assert_eq!(s.consecutive_failures, 6);
        assert_eq!(s.next_wake(now), Some(t(11, 48)));
        s.take_due(t(11, 48)).unwrap();
        s.finished(t(11, 49), true);
        assert_eq!(s.consecutive_failures, 0);
        assert_eq!(s.next_wake(t(11, 49)), Some(t(12, 3)));
    }

    #[test]
    fn hold_delays_schedule_but_not_operator_requests() {
        let mut s = Scheduler::new(Frequency::M15, Some(t(10, 0)));
        s.hold(t(14, 20));
        assert_eq!(s.next_wake(t(10, 5)), Some(t(14, 20)));
        assert_eq!(s.take_due(t(10, 30)), None);
        s.request_now(false).unwrap();
        assert!(s.take_due(t(10, 31)).is_some());
        s.finished(t(10, 32), false);
        s.release_hold();
        assert_eq!(s.next_wake(t(10, 40)), Some(t(10, 46)));
    }

    #[test]
    fn frequency_change_applies_to_the_next_run() {
        let mut s = Scheduler::new(Frequency::H24, Some(t(10, 0)));
        s.set_frequency(Frequency::M30);
        assert_eq!(s.next_wake(t(10, 5)), Some(t(10, 30)));
        s.set_frequency(Frequency::Manual);
        assert_eq!(s.next_wake(t(10, 5)), None);
    }
}
