//! The API-quota guard shared by all concurrent object syncs of one source.
//!
//! Two limits, both against the org's daily allocation (`max` from `Sforce-Limit-Info:
//! api-usage=USED/MAX`, a rolling 24 h window shared by every app in the org):
//! - the org-wide threshold (default 80 % of max): usage must never go past it;
//! - the per-run cap (`run_quota_percent` of max): one run may not spend more than that.
//!
//! A permit is reserved *before* every call and released when its response (or failure)
//! arrives. In-flight calls count as already spent, so however many objects sync at once,
//! `used + in_flight` never exceeds the threshold. Responses of concurrent calls arrive in
//! any order, so a reading only lowers the known usage when it came from a call that was
//! alone on the wire (the rolling window can then be seen shrinking); otherwise the highest
//! reading wins.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// One `api-usage=USED/MAX` reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageReading {
    pub used: u64,
    pub max: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSettings {
    /// Org-wide usage (percent of max) that must not be crossed.
    pub threshold_percent: u8,
    /// This run's share of max.
    pub run_quota_percent: u8,
}

/// Why the guard refuses further calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaStop {
    #[error(
        "org API usage reached {used} of {max} daily calls, the {threshold_percent}% threshold"
    )]
    OrgThreshold {
        used: u64,
        max: u64,
        threshold_percent: u8,
    },
    #[error(
        "this run spent {calls} API calls, its cap of {run_quota_percent}% of the org's {max} daily calls"
    )]
    RunCap {
        calls: u64,
        max: u64,
        run_quota_percent: u8,
    },
    #[error("Salesforce refused a call: the org's daily API request limit is exceeded")]
    LimitExceeded { used: Option<u64>, max: Option<u64> },
}

impl QuotaStop {
    pub fn used_max(&self) -> (Option<u64>, Option<u64>) {
        match *self {
            QuotaStop::OrgThreshold { used, max, .. } => (Some(used), Some(max)),
            QuotaStop::RunCap { max, .. } => (None, Some(max)),
            QuotaStop::LimitExceeded { used, max } => (used, max),
        }
    }

    /// Org-wide stops clear only as the rolling window frees calls; a run cap clears with
    /// the next run.
    pub fn is_org_wide(&self) -> bool {
        !matches!(self, QuotaStop::RunCap { .. })
    }
}

#[derive(Debug)]
struct State {
    settings: QuotaSettings,
    used: Option<u64>,
    max: Option<u64>,
    in_flight: u64,
    /// Finished calls whose response carried no usage reading.
    unreported: u64,
    /// Reservations since `in_flight` was last zero: when a call completes as the only
    /// reservation of its busy period, nothing else was on the wire and its reading is exact.
    busy_reservations: u64,
    run_calls: u64,
    stop: Option<QuotaStop>,
}

impl State {
    fn threshold_calls(&self, max: u64) -> u64 {
        percent_of(max, self.settings.threshold_percent)
    }

    fn run_cap_calls(&self, max: u64) -> u64 {
        percent_of(max, self.settings.run_quota_percent).max(1)
    }

    fn check(&self, calls: u64) -> Result<(), QuotaStop> {
        if let Some(stop) = &self.stop {
            return Err(stop.clone());
        }
        // Until a first response tells the daily max nothing can be checked; the engine
        // seeds the guard from the last stored reading and makes its first call alone.
        let Some(max) = self.max else {
            return Ok(());
        };
        // Saturating throughout: `used` and `max` are whatever the server said.
        let used = self.used.unwrap_or(0).saturating_add(self.unreported);
        let threshold = self.threshold_calls(max);
        if used.saturating_add(self.in_flight).saturating_add(calls) > threshold {
            // A reading taken while other calls were in flight may already count them, so
            // `used + in_flight` can overstate. Our own calls never pass the threshold; only
            // a reading (other apps' calls) can show usage beyond it.
            let reported = used
                .saturating_add(self.in_flight)
                .min(threshold)
                .max(self.used.unwrap_or(0));
            return Err(QuotaStop::OrgThreshold {
                used: reported,
                max,
                threshold_percent: self.settings.threshold_percent,
            });
        }
        if self.run_calls.saturating_add(calls) > self.run_cap_calls(max) {
            return Err(QuotaStop::RunCap {
                calls: self.run_calls,
                max,
                run_quota_percent: self.settings.run_quota_percent,
            });
        }
        Ok(())
    }
}

/// Shared by every task of one source (wrap in `Arc`).
#[derive(Debug)]
pub struct QuotaGuard {
    state: Mutex<State>,
}

impl QuotaGuard {
    pub fn new(settings: QuotaSettings) -> QuotaGuard {
        QuotaGuard {
            state: Mutex::new(State {
                settings,
                used: None,
                max: None,
                in_flight: 0,
                unreported: 0,
                busy_reservations: 0,
                run_calls: 0,
                stop: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent under every operation, so a panic elsewhere
        // while holding the lock leaves nothing half-updated.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_settings(&self, settings: QuotaSettings) {
        let mut s = self.lock();
        s.settings = settings;
        if matches!(s.stop, Some(QuotaStop::OrgThreshold { .. })) {
            s.stop = None; // a raised threshold may allow calls again; `check` decides
        }
    }

    /// A new run: its call count starts at zero and a previous stop is re-evaluated
    /// against the known usage.
    pub fn begin_run(&self) {
        let mut s = self.lock();
        s.run_calls = 0;
        s.stop = None;
    }

    /// Reserve `calls` calls (a composite request costs one per sub-request) or say why
    /// not. On `Ok` the caller MUST call [`QuotaGuard::complete`] with the same count once
    /// the request is over, successful or not.
    pub fn try_reserve(&self, calls: u64) -> Result<(), QuotaStop> {
        let mut s = self.lock();
        match s.check(calls) {
            Ok(()) => {
                s.in_flight = s.in_flight.saturating_add(calls);
                s.busy_reservations = s.busy_reservations.saturating_add(1);
                s.run_calls = s.run_calls.saturating_add(calls);
                Ok(())
            }
            Err(stop) => {
                s.stop = Some(stop.clone());
                Err(stop)
            }
        }
    }

    /// A reserved request of `calls` calls is over; `reading` is its `Sforce-Limit-Info`
    /// usage, when present.
    pub fn complete(&self, calls: u64, reading: Option<UsageReading>) {
        let mut s = self.lock();
        let alone = s.in_flight == calls && s.busy_reservations == 1;
        s.in_flight = s.in_flight.saturating_sub(calls);
        if s.in_flight == 0 {
            s.busy_reservations = 0;
        }
        match reading {
            Some(r) if alone => {
                s.max = Some(r.max);
                s.used = Some(r.used);
                s.unreported = 0;
            }
            Some(r) => {
                s.max = Some(r.max);
                s.used = Some(s.used.map_or(r.used, |known| known.max(r.used)));
            }
            // No header (a failed call, say): assume it counted. It stays on the books
            // until a lone call's reading (which includes it) replaces them.
            None => s.unreported = s.unreported.saturating_add(calls),
        }
    }

    /// Start from a stored reading (engine start) so the very first calls are checked.
    pub fn seed(&self, reading: UsageReading) {
        let mut s = self.lock();
        if s.max.is_none() {
            s.used = Some(reading.used);
            s.max = Some(reading.max);
        }
    }

    /// Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: stop like the threshold would.
    /// Call after [`QuotaGuard::complete`] for that call.
    pub fn limit_exceeded(&self) -> QuotaStop {
        let mut s = self.lock();
        if let Some(max) = s.max {
            s.used = Some(s.used.unwrap_or(0).max(max));
        }
        let stop = QuotaStop::LimitExceeded {
            used: s.used,
            max: s.max,
        };
        s.stop = Some(stop.clone());
        stop
    }

    /// Replace the known usage with an estimate (time has passed since the last reading
    /// and the rolling window freed calls). Used to let one probe call through.
    pub fn assume_usage(&self, used: u64) {
        let mut s = self.lock();
        s.used = Some(used);
        s.unreported = 0;
        s.stop = None;
    }

    pub fn usage(&self) -> (Option<u64>, Option<u64>) {
        let s = self.lock();
        (s.used.map(|u| u.saturating_add(s.unreported)), s.max)
    }

    /// The org-wide threshold in calls, once the daily max is known.
    pub fn threshold_calls(&self) -> Option<u64> {
        let s = self.lock();
        s.max.map(|m| s.threshold_calls(m))
    }

    /// Calls reserved whose response has not arrived yet.
    pub fn in_flight(&self) -> u64 {
        self.lock().in_flight
    }
}

/// `percent` % of `max`, rounded down, exact for every `max` (no overflow).
pub fn percent_of(max: u64, percent: u8) -> u64 {
    let calls = u128::from(max) * u128::from(percent) / 100;
    u64::try_from(calls).unwrap_or(u64::MAX)
}

/// The daily allocation is a rolling 24 hours.
pub const WINDOW: Duration = Duration::hours(24);
/// Without any usage history, look again after this long.
pub const UNKNOWN_HISTORY_RECHECK: Duration = Duration::hours(1);

/// A stopped source's resume time as every surface words it (details panel, events,
/// `status`), from the one estimate in `ErrorInfo::retry_at`: never a time in the past,
/// since a due check happens at once.
pub fn resume_text(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at <= now {
        "now (checking API usage)".into()
    } else {
        format!("about {}", at.format("%Y-%m-%d %H:%M UTC"))
    }
}

/// When usage is expected to fall below `threshold_calls` again.
///
/// The estimate replays the rolling window from usage samples `(time, used)`, oldest first:
/// - usage present at the oldest sample in the last 24 h is assumed to have been spent
///   evenly over the 24 h before it, so it frees up linearly over the 24 h after it;
/// - each increase between two samples is assumed spent at the later sample, so it frees
///   up all at once 24 h after that sample (assuming "later" errs towards resuming late).
///
/// Returns the earliest instant at which the replayed usage leaves room for one call
/// (found by bisection, the replay only decreases over time), never before `now`.
pub fn estimate_resume(
    samples: &[(DateTime<Utc>, u64)],
    threshold_calls: u64,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let recent: Vec<(DateTime<Utc>, u64)> = samples
        .iter()
        .copied()
        .filter(|(t, _)| *t > now - WINDOW && *t <= now)
        .collect();
    let Some(&(last_at, _)) = recent.last() else {
        return now + UNKNOWN_HISTORY_RECHECK;
    };
    let fits = |at: DateTime<Utc>| replayed_usage(&recent, at) + 1.0 <= threshold_calls as f64;
    if fits(now) {
        return now;
    }
    let (mut lo, mut hi) = (now, last_at + WINDOW);
    while hi - lo > Duration::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

fn replayed_usage(samples: &[(DateTime<Utc>, u64)], at: DateTime<Utc>) -> f64 {
    let Some(&(first_at, first_used)) = samples.first() else {
        return 0.0;
    };
    let elapsed = (at - first_at).num_milliseconds() as f64 / WINDOW.num_milliseconds() as f64;
    let baseline = first_used as f64 * (1.0 - elapsed.clamp(0.0, 1.0));
    let increases: u64 = samples
        .windows(2)
        .filter(|w| w[1].0 > at - WINDOW)
        .map(|w| w[1].1.saturating_sub(w[0].1))
        .fold(0, u64::saturating_add);
    baseline + increases as f64
}

/// Spacing of the auto-resume probes after a quota stop: the first probe waits for the
/// estimate; each probe that still finds usage too high doubles the minimum gap.
#[derive(Debug, Clone)]
pub struct ResumeProbes {
    gap: Duration,
    last_probe: Option<DateTime<Utc>>,
}

pub const FIRST_PROBE_GAP: Duration = Duration::minutes(15);
pub const MAX_PROBE_GAP: Duration = Duration::hours(4);

impl Default for ResumeProbes {
    fn default() -> Self {
        ResumeProbes {
            gap: FIRST_PROBE_GAP,
            last_probe: None,
        }
    }
}

impl ResumeProbes {
    /// When to probe next given the estimate.
    pub fn next_probe(&self, estimate: DateTime<Utc>) -> DateTime<Utc> {
        match self.last_probe {
            Some(last) => estimate.max(last + self.gap),
            None => estimate,
        }
    }

    /// A probe was made at `at` and usage was still at or above the threshold.
    pub fn still_high(&mut self, at: DateTime<Utc>) {
        if self.last_probe.is_some() {
            self.gap = (self.gap * 2).min(MAX_PROBE_GAP);
        }
        self.last_probe = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_time_is_never_shown_in_the_past() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            resume_text(now + Duration::minutes(90), now),
            "about 2026-03-01 13:30 UTC"
        );
        for due in [now, now - Duration::minutes(5)] {
            assert_eq!(resume_text(due, now), "now (checking API usage)");
        }
    }
    use chrono::TimeZone;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn settings(threshold: u8, run: u8) -> QuotaSettings {
        QuotaSettings {
            threshold_percent: threshold,
            run_quota_percent: run,
        }
    }

    fn reading(used: u64, max: u64) -> Option<UsageReading> {
        Some(UsageReading { used, max })
    }

    #[test]
    fn any_server_reading_is_safe_arithmetic() {
        for (used, max) in [
            (u64::MAX, u64::MAX),
            (u64::MAX, 0),
            (10, 0),
            (0, u64::MAX),
            (500, 100),
        ] {
            let g = QuotaGuard::new(settings(80, 100));
            g.try_reserve(1).unwrap();
            g.complete(1, reading(used, max));
            g.complete(u64::MAX, None);
            let _ = g.try_reserve(u64::MAX);
            let _ = g.try_reserve(1);
            let _ = g.usage();
            let _ = g.threshold_calls();
            let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let resume = estimate_resume(
                &[
                    (now - Duration::hours(2), 0),
                    (now - Duration::hours(1), used),
                ],
                g.threshold_calls().unwrap_or(0),
                now,
            );
            assert!(resume >= now);
        }
        assert_eq!(percent_of(u64::MAX, 100), u64::MAX);
        assert_eq!(percent_of(u64::MAX, 80), u64::MAX / 100 * 80 + 12);
        assert_eq!(percent_of(1000, 80), 800);
        let g = QuotaGuard::new(settings(80, 100));
        g.seed(UsageReading {
            used: 500,
            max: 100,
        });
        assert!(matches!(
            g.try_reserve(1),
            Err(QuotaStop::OrgThreshold { .. })
        ));
    }

    #[test]
    fn in_flight_calls_count_against_the_threshold() {
        let g = QuotaGuard::new(settings(80, 100));
        g.try_reserve(1).unwrap(); // max unknown: the first call finds it out
        g.complete(1, reading(78, 100));
        g.try_reserve(1).unwrap(); // 78 + 1 in flight
        g.try_reserve(1).unwrap(); // 78 + 2 in flight = 80
        assert_eq!(
            g.try_reserve(1),
            Err(QuotaStop::OrgThreshold {
                used: 80,
                max: 100,
                threshold_percent: 80
            })
        );
        // Sticky for the rest of the run even if a lower reading arrives.
        g.complete(1, reading(79, 100));
        g.complete(1, reading(80, 100));
        assert!(g.try_reserve(1).is_err());
        assert_eq!(g.usage(), (Some(80), Some(100)));
    }

    #[test]
    fn a_reading_that_already_counts_calls_in_flight_is_not_counted_twice() {
        let g = QuotaGuard::new(settings(80, 100));
        g.seed(UsageReading { used: 76, max: 100 });
        for _ in 0..3 {
            g.try_reserve(1).unwrap();
        }
        // The first response's reading counts all three calls, two still in flight.
        g.complete(1, reading(79, 100));
        let stop = g.try_reserve(2).unwrap_err();
        assert_eq!(
            stop,
            QuotaStop::OrgThreshold {
                used: 80,
                max: 100,
                threshold_percent: 80
            },
            "79 + 2 in flight overstates; usage never passes the threshold by our calls"
        );
        // Another app's calls do show above the threshold.
        let g = QuotaGuard::new(settings(80, 100));
        g.seed(UsageReading { used: 85, max: 100 });
        assert!(matches!(
            g.try_reserve(1),
            Err(QuotaStop::OrgThreshold { used: 85, .. })
        ));
    }

    #[test]
    fn composite_requests_reserve_all_their_calls() {
        let g = QuotaGuard::new(settings(50, 100));
        g.seed(UsageReading { used: 30, max: 100 });
        assert!(g.try_reserve(21).is_err(), "30 + 21 would pass 50");
        g.begin_run();
        g.try_reserve(20).unwrap();
        assert!(g.try_reserve(1).is_err());
        g.complete(20, reading(50, 100));
        assert_eq!(g.usage(), (Some(50), Some(100)));
    }

    #[test]
    fn run_cap_counts_only_this_runs_calls() {
        let g = QuotaGuard::new(settings(80, 2));
        g.try_reserve(1).unwrap();
        g.complete(1, reading(10, 200)); // cap = 4 calls
        for used in 11..14 {
            g.try_reserve(1).unwrap();
            g.complete(1, reading(used, 200));
        }
        assert_eq!(g.lock().run_calls, 4);
        let stop = g.try_reserve(1).unwrap_err();
        assert_eq!(
            stop,
            QuotaStop::RunCap {
                calls: 4,
                max: 200,
                run_quota_percent: 2
            }
        );
        g.begin_run();
        g.try_reserve(1).unwrap();
    }

    #[test]
    fn lone_calls_see_the_window_shrink_but_concurrent_readings_never_lower_usage() {
        let g = QuotaGuard::new(settings(80, 100));
        g.try_reserve(1).unwrap();
        g.complete(1, reading(50, 100));
        g.try_reserve(1).unwrap();
        g.complete(1, reading(40, 100));
        assert_eq!(g.usage().0, Some(40), "a lone call's reading is exact");
        g.try_reserve(1).unwrap();
        g.try_reserve(1).unwrap();
        g.complete(1, reading(42, 100));
        g.complete(1, reading(41, 100)); // older call answered last
        assert_eq!(g.usage().0, Some(42));
    }

    #[test]
    fn request_limit_exceeded_stops_until_the_next_run() {
        let g = QuotaGuard::new(settings(90, 100));
        g.try_reserve(1).unwrap();
        g.complete(1, reading(100, 100));
        let stop = g.limit_exceeded();
        assert_eq!(
            stop,
            QuotaStop::LimitExceeded {
                used: Some(100),
                max: Some(100)
            }
        );
        assert!(stop.is_org_wide());
        assert_eq!(g.try_reserve(1), Err(stop));
    }

    #[test]
    fn an_estimate_lets_one_probe_through() {
        let g = QuotaGuard::new(settings(80, 100));
        g.try_reserve(1).unwrap();
        g.complete(1, reading(80, 100));
        assert!(g.try_reserve(1).is_err());
        g.begin_run();
        assert!(g.try_reserve(1).is_err(), "usage still at the threshold");
        g.assume_usage(60);
        g.try_reserve(1).unwrap();
        g.complete(1, reading(81, 100)); // others kept spending: still too high
        assert!(g.try_reserve(1).is_err());
    }

    /// A tiny deterministic generator so failures reproduce from the seed.
    struct SplitMix(u64);
    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    /// Property: however many tasks hammer one guard, and in whatever order the "server"
    /// counts calls and their responses come back, org usage never passes the threshold,
    /// and the guard still lets usage get all the way to it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_tasks_never_cross_the_threshold() {
        for seed in 0..40u64 {
            let max = 1_000;
            let start_used = 700 + seed % 50;
            let threshold = 80;
            let guard = Arc::new(QuotaGuard::new(settings(threshold, 100)));
            guard.seed(UsageReading {
                used: start_used,
                max,
            });
            let server_used = Arc::new(AtomicU64::new(start_used));
            let peak = Arc::new(AtomicU64::new(0));
            let headerless = Arc::new(AtomicU64::new(0));
            let tasks = 2 + (seed % 15) as usize;
            let mut handles = Vec::new();
            for task in 0..tasks {
                let (guard, server_used, peak, headerless) = (
                    guard.clone(),
                    server_used.clone(),
                    peak.clone(),
                    headerless.clone(),
                );
                handles.push(tokio::spawn(async move {
                    let mut rng = SplitMix(seed * 1_000 + task as u64);
                    loop {
                        // Composite requests now and then.
                        let calls = if rng.next() % 8 == 0 { 3 } else { 1 };
                        if guard.try_reserve(calls).is_err() {
                            return;
                        }
                        for _ in 0..rng.next() % 4 {
                            tokio::task::yield_now().await;
                        }
                        let used = server_used.fetch_add(calls, Ordering::SeqCst) + calls;
                        peak.fetch_max(used, Ordering::SeqCst);
                        for _ in 0..rng.next() % 4 {
                            tokio::task::yield_now().await;
                        }
                        // Some responses carry no usage header.
                        let r = (rng.next() % 20 != 0).then_some(UsageReading { used, max });
                        if r.is_none() {
                            headerless.fetch_add(calls, Ordering::SeqCst);
                        }
                        guard.complete(calls, r);
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            let limit = max * u64::from(threshold) / 100;
            let peak = peak.load(Ordering::SeqCst);
            assert!(peak <= limit, "seed {seed}: usage {peak} crossed {limit}");
            // Headerless calls may be counted twice (safe side); otherwise the guard only
            // stops when the next request would not fit.
            let final_used = server_used.load(Ordering::SeqCst);
            let slack = 3 * tasks as u64 + headerless.load(Ordering::SeqCst);
            assert!(
                final_used + slack >= limit,
                "seed {seed}: guard stopped early at {final_used} of {limit}"
            );
        }
    }

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn resume_estimate_waits_for_the_burst_to_leave_the_window() {
        // Quiet org at 100, then a burst of 700 calls between 10:00 and 11:00.
        let samples = vec![(at(2), 100), (at(10), 100), (at(11), 800)];
        let now = at(12);
        // Usage now: the 100 baseline (spread over the 24 h before 02:00) has partly
        // freed, plus the 700-call burst, assumed spent at 11:00.
        // Threshold 700: only the burst leaving the window at 11:00 tomorrow makes room.
        let resume = estimate_resume(&samples, 700, now);
        assert!(
            (resume - at(11 + 24)).abs() <= Duration::seconds(1),
            "{resume}"
        );
        // Threshold 750: the baseline must decay to 49, i.e. 51 % of a day after 02:00.
        let resume = estimate_resume(&samples, 750, now);
        let expected = at(2) + Duration::seconds(24 * 3600 * 51 / 100);
        assert!(
            (resume - expected).abs() <= Duration::seconds(2),
            "{resume}"
        );
    }

    #[test]
    fn resume_estimate_is_now_when_below_and_hour_without_history() {
        let now = at(5);
        assert_eq!(estimate_resume(&[(at(4), 10)], 80, now), now);
        assert_eq!(estimate_resume(&[], 80, now), now + UNKNOWN_HISTORY_RECHECK);
        // Samples older than the window say nothing about today.
        assert_eq!(
            estimate_resume(&[(at(-30), 900)], 80, now),
            now + UNKNOWN_HISTORY_RECHECK
        );
    }

    #[test]
    fn probes_back_off() {
        let mut p = ResumeProbes::default();
        assert_eq!(p.next_probe(at(3)), at(3));
        p.still_high(at(3));
        // Estimate says "now" again: still wait at least the first gap.
        assert_eq!(p.next_probe(at(3)), at(3) + FIRST_PROBE_GAP);
        p.still_high(at(3) + FIRST_PROBE_GAP);
        assert_eq!(
            p.next_probe(at(3)),
            at(3) + FIRST_PROBE_GAP + FIRST_PROBE_GAP * 2
        );
        assert_eq!(p.next_probe(at(30)), at(30), "a later estimate wins");
    }
}
