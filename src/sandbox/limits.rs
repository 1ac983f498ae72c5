//! The org's daily API allocation: a rolling 24-hour window of counted calls.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
pub struct Quota {
    max: u64,
    /// Usage set by a control, as if that many calls happened just now.
    preset: u64,
    preset_at: Option<Instant>,
    calls: VecDeque<Instant>,
}

/// Usage after a call was admitted or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used: u64,
    pub max: u64,
}

impl Usage {
    pub fn header(self) -> String {
        format!("api-usage={}/{}", self.used, self.max)
    }
}

impl Quota {
    pub fn new(max: u64) -> Quota {
        Quota {
            max,
            preset: 0,
            preset_at: None,
            calls: VecDeque::new(),
        }
    }

    fn prune(&mut self, now: Instant) {
        while self
            .calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.calls.pop_front();
        }
        if self
            .preset_at
            .is_some_and(|t| now.duration_since(t) >= WINDOW)
        {
            self.preset = 0;
            self.preset_at = None;
        }
    }

    pub fn usage(&mut self) -> Usage {
        self.prune(Instant::now());
        Usage {
            used: self.preset + self.calls.len() as u64,
            max: self.max,
        }
    }

    /// Counts one call, or refuses it once the allocation is spent.
    pub fn admit(&mut self) -> Result<Usage, Usage> {
        let now = Instant::now();
        self.prune(now);
        let used = self.preset + self.calls.len() as u64;
        if used >= self.max {
            return Err(Usage {
                used,
                max: self.max,
            });
        }
        self.calls.push_back(now);
        Ok(Usage {
            used: used + 1,
            max: self.max,
        })
    }

    pub fn set(&mut self, used: Option<u64>, max: Option<u64>) {
        if let Some(m) = max {
            self.max = m;
        }
        if let Some(u) = used {
            self.calls.clear();
            self.preset = u;
            self.preset_at = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_max_and_can_be_reset() {
        let mut q = Quota::new(2);
        assert_eq!(q.admit().unwrap().header(), "api-usage=1/2");
        assert_eq!(q.admit().unwrap().used, 2);
        assert_eq!(q.admit(), Err(Usage { used: 2, max: 2 }));
        q.set(Some(0), Some(5));
        assert_eq!(q.admit().unwrap().header(), "api-usage=1/5");
    }
}
