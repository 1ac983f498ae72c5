//! Exponential backoff with jitter, bounded in attempts and in total time, honouring a
//! server's `Retry-After`. Only `Error::Retryable` is retried.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::errors::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries: for calls whose caller handles failure itself.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The upper bound of the backoff after failed attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// "Equal jitter": half the ceiling plus a random part of the other half, so retries
    /// from many workers spread out but never fire immediately. `unit` is in [0, 1].
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        ceiling / 2 + ceiling.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }

    /// The wait before the next attempt, or `None` when the budget is spent.
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = self
            .backoff(attempt, unit)
            .max(retry_after.unwrap_or_default());
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }

    /// Run `op` until it succeeds, fails with a non-retryable error, or the budget is
    /// spent. The final `Retryable` error carries the attempt count and elapsed time.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Err(Error::Retryable {
                    fault, retry_after, ..
                }) => {
                    let elapsed = started.elapsed();
                    match self.next_delay(
                        attempt,
                        elapsed,
                        retry_after,
                        rand::random_range(0.0..=1.0),
                    ) {
                        Some(delay) => {
                            tracing::warn!(attempt, ?delay, %fault, "transient Salesforce failure; retrying");
                            tokio::time::sleep(delay).await;
                            attempt += 1;
                        }
                        None => {
                            return Err(Error::Retryable {
                                fault,
                                attempts: attempt,
                                elapsed,
                                retry_after,
                            });
                        }
                    }
                }
                other => return other,
            }
        }
    }
}

/// The longest `Retry-After` taken from a server; longer values are read as this. Waits
/// are further bounded by the policy's `max_elapsed` (a longer one ends the retries).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Parse `Retry-After` in its delta-seconds form (the HTTP-date form is not used by
/// Salesforce or the sandbox and is ignored), capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits too many for a u64 are still "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::errors::{ErrorClass, Fault};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_bounds() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(3), Duration::from_millis(350));
        assert_eq!(p.ceiling(40), Duration::from_millis(350));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        let mid = p.backoff(2, 0.5);
        assert!(mid > Duration::from_millis(100) && mid < Duration::from_millis(200));
    }

    #[test]
    fn budget_bounds_attempts_and_time_and_honours_retry_after() {
        let p = policy();
        assert!(p.next_delay(3, Duration::ZERO, None, 0.5).is_some());
        assert_eq!(p.next_delay(4, Duration::ZERO, None, 0.5), None);
        assert_eq!(
            p.next_delay(1, Duration::from_millis(1990), None, 0.5),
            None
        );
        assert_eq!(
            p.next_delay(1, Duration::ZERO, Some(Duration::from_secs(1)), 0.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            p.next_delay(1, Duration::ZERO, Some(Duration::from_secs(5)), 0.0),
            None
        );
    }

    #[test]
    fn retry_after_header() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("-1"), None);
        let p = policy();
        assert_eq!(
            p.next_delay(1, Duration::MAX, Some(Duration::MAX), 1.0),
            None,
            "no overflow on any server value"
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            ..policy()
        }
    }

    fn transient() -> Error {
        Error::retryable(Fault::new(Some(503), "SERVER_UNAVAILABLE", "busy"))
    }

    #[tokio::test]
    async fn run_retries_until_success() {
        let calls = AtomicU32::new(0);
        let out = fast()
            .run(|_| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(transient())
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn run_gives_up_with_attempt_count() {
        let out: Result<(), _> = fast().run(|_| async { Err(transient()) }).await;
        match out {
            Err(Error::Retryable {
                attempts, fault, ..
            }) => {
                assert_eq!(attempts, 4);
                assert_eq!(fault.code, "SERVER_UNAVAILABLE");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn run_never_retries_fatal() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = fast()
            .run(|_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Error::fatal("INVALID_FIELD", "no"))
            })
            .await;
        assert_eq!(out.unwrap_err().class(), ErrorClass::Fatal);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
