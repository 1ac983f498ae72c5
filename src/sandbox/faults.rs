//! Injected failures: the next responses fail, arrive late, come back malformed, or are cut
//! off mid-body; query locators can be expired on demand.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault request, as accepted by `POST /__sandbox/faults` and `SandboxHandle::inject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Answer the next `count` API requests with this status (500 or 503).
    pub status: Option<u16>,
    pub count: u32,
    /// Delay every API response by this many milliseconds (0 turns it off).
    pub latency_ms: Option<u64>,
    /// Send a truncated JSON body for the next N API responses.
    pub malformed: u32,
    /// Drop the connection mid-body for the next N API responses.
    pub drop_connection: u32,
    /// Forget every open query locator (next page → 400 INVALID_QUERY_LOCATOR).
    pub expire_locators: bool,
    /// Fail the next `object_count` queries (first pages) of this object, alone or inside
    /// a composite request, with `object_status` (400: INVALID_FIELD; 500, 503: as above).
    pub object: Option<String>,
    pub object_status: Option<u16>,
    pub object_count: u32,
}

/// What to do to one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Status(u16),
    Malformed,
    Drop,
}

#[derive(Debug, Default)]
pub struct Faults {
    status: Option<(u16, u32)>,
    malformed: u32,
    drop: u32,
    pub latency: Duration,
    pub injected: u64,
    /// Object name (lowercase), status, queries left.
    object: Option<(String, u16, u32)>,
}

impl Faults {
    pub fn apply(&mut self, spec: &FaultSpec) {
        if let Some(s) = spec.status {
            self.status = (spec.count > 0).then_some((s, spec.count));
        }
        if let Some(ms) = spec.latency_ms {
            self.latency = Duration::from_millis(ms);
        }
        self.malformed += spec.malformed;
        self.drop += spec.drop_connection;
        if let Some(object) = &spec.object {
            self.object = (spec.object_count > 0).then(|| {
                let status = spec.object_status.unwrap_or(500);
                (object.to_ascii_lowercase(), status, spec.object_count)
            });
        }
    }

    /// The status a query of `object` must fail with, if a fault is armed for it.
    pub fn take_object(&mut self, object: &str) -> Option<u16> {
        let (name, status, left) = self.object.as_mut()?;
        if !name.eq_ignore_ascii_case(object) {
            return None;
        }
        let status = *status;
        *left -= 1;
        if *left == 0 {
            self.object = None;
        }
        self.injected += 1;
        Some(status)
    }

    pub fn clear(&mut self) {
        *self = Faults {
            injected: self.injected,
            ..Faults::default()
        };
    }

    /// The fault for the next API response, if one is armed.
    pub fn take(&mut self) -> Option<Fault> {
        let fault = if let Some((s, n)) = self.status.as_mut() {
            let status = *s;
            *n -= 1;
            if *n == 0 {
                self.status = None;
            }
            Fault::Status(status)
        } else if self.malformed > 0 {
            self.malformed -= 1;
            Fault::Malformed
        } else if self.drop > 0 {
            self.drop -= 1;
            Fault::Drop
        } else {
            return None;
        };
        self.injected += 1;
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order() {
        let mut f = Faults::default();
        f.apply(&FaultSpec {
            status: Some(503),
            count: 2,
            malformed: 1,
            ..Default::default()
        });
        assert_eq!(f.take(), Some(Fault::Status(503)));
        assert_eq!(f.take(), Some(Fault::Status(503)));
        assert_eq!(f.take(), Some(Fault::Malformed));
        assert_eq!(f.take(), None);
        assert_eq!(f.injected, 3);
    }
}
