//! The per-source status machine.
//!
//! The displayed [`Status`] is derived from a few facts the worker reports (credentials,
//! operator pause, an error, first sync or backfill pending), so it can never disagree
//! with them. Precedence, highest first, and why:
//! 1. `NotConnected`: without credentials nothing else matters.
//! 2. `Error` needing the operator (AuthRequired, PermissionDenied, Config): pausing must
//!    not hide that the source is broken.
//! 3. `NotSyncing`: the operator's pause explains why nothing happens, over transient
//!    errors (quota, API, network) that would only matter once syncing resumes.
//! 4. `Error` that clears by itself (QuotaThreshold, Api, Network, FieldsSkipped).
//! 5. `SettingUp`: first sync or backfill not finished yet.
//! 6. `Active`.
//!
//! Every change of the derived status is returned as a [`Transition`] so the worker can
//! log it, add an event and notify.

use chrono::{DateTime, Utc};

use crate::model::{ErrorInfo, ErrorKind, SkippedFields, Status};

/// Whether an error needs the operator to act, rather than clearing by itself.
pub fn needs_operator(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::AuthRequired | ErrorKind::PermissionDenied | ErrorKind::Config
    )
}

/// The status error for fields a run skipped: it names every object and field and says
/// what to do, and it does not block runs (the other fields keep syncing).
pub fn fields_skipped_error(skipped: &[SkippedFields]) -> Option<ErrorInfo> {
    if skipped.is_empty() {
        return None;
    }
    Some(ErrorInfo {
        kind: ErrorKind::FieldsSkipped,
        message: format!(
            "selected fields are not synced because the org does not have them or the authorizing user cannot read them (field-level security): {}. Grant the user read access or deselect them in Edit Data Sync",
            SkippedFields::describe_all(skipped)
        ),
        retry_at: None,
        used: None,
        max: None,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StatusMachine {
    has_credentials: bool,
    sync_enabled: bool,
    setting_up: bool,
    error: Option<ErrorInfo>,
    status: Status,
    since: DateTime<Utc>,
}

impl StatusMachine {
    /// `setting_up`: the source has not finished its first full sync.
    pub fn new(
        has_credentials: bool,
        sync_enabled: bool,
        setting_up: bool,
        now: DateTime<Utc>,
    ) -> StatusMachine {
        let mut m = StatusMachine {
            has_credentials,
            sync_enabled,
            setting_up,
            error: None,
            status: Status::NotConnected,
            since: now,
        };
        m.status = m.derive();
        m
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// The current error, even when a pause outranks it in the displayed status.
    pub fn error(&self) -> Option<&ErrorInfo> {
        self.error.as_ref()
    }

    pub fn sync_enabled(&self) -> bool {
        self.sync_enabled
    }

    fn derive(&self) -> Status {
        if !self.has_credentials {
            return Status::NotConnected;
        }
        if let Some(e) = self.error.as_ref().filter(|e| needs_operator(e.kind)) {
            return Status::Error(e.clone());
        }
        if !self.sync_enabled {
            return Status::NotSyncing;
        }
        if let Some(e) = &self.error {
            return Status::Error(e.clone());
        }
        if self.setting_up {
            return Status::SettingUp;
        }
        Status::Active
    }

    fn update(&mut self, now: DateTime<Utc>) -> Option<Transition> {
        let next = self.derive();
        if next == self.status {
            return None;
        }
        let from = std::mem::replace(&mut self.status, next.clone());
        self.since = now;
        Some(Transition {
            from,
            to: next,
            at: now,
        })
    }

    /// Credentials appeared (authorization succeeded) or disappeared. A fresh authorization
    /// clears an AuthRequired or PermissionDenied error: the new grant is re-checked on the
    /// next run.
    pub fn set_credentials(&mut self, present: bool, now: DateTime<Utc>) -> Option<Transition> {
        self.has_credentials = present;
        if present
            && self.error.as_ref().is_some_and(|e| {
                matches!(
                    e.kind,
                    ErrorKind::AuthRequired | ErrorKind::PermissionDenied
                )
            })
        {
            self.error = None;
        }
        self.update(now)
    }

    /// Operator pause (false) or resume (true).
    pub fn set_sync_enabled(&mut self, enabled: bool, now: DateTime<Utc>) -> Option<Transition> {
        self.sync_enabled = enabled;
        self.update(now)
    }

    /// First sync or a backfill started (true) or completed (false).
    pub fn set_setting_up(&mut self, setting_up: bool, now: DateTime<Utc>) -> Option<Transition> {
        self.setting_up = setting_up;
        self.update(now)
    }

    pub fn fail(&mut self, error: ErrorInfo, now: DateTime<Utc>) -> Option<Transition> {
        self.error = Some(error);
        self.update(now)
    }

    /// A run succeeded (or the condition behind the error went away).
    pub fn recover(&mut self, now: DateTime<Utc>) -> Option<Transition> {
        self.error = None;
        self.update(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 2, 8, m, 0).unwrap()
    }

    fn err(kind: ErrorKind) -> ErrorInfo {
        ErrorInfo {
            kind,
            message: format!("{} happened", kind.label()),
            retry_at: None,
            used: None,
            max: None,
        }
    }

    #[test]
    fn lifecycle_not_connected_setting_up_active_paused_active() {
        let mut m = StatusMachine::new(false, true, true, t(0));
        assert_eq!(m.status(), &Status::NotConnected);
        let tr = m.set_credentials(true, t(1)).unwrap();
        assert_eq!(
            (tr.from, tr.to.clone()),
            (Status::NotConnected, Status::SettingUp)
        );
        assert_eq!(m.since(), t(1));
        assert_eq!(
            m.set_setting_up(false, t(2)).map(|t| t.to),
            Some(Status::Active)
        );
        assert_eq!(
            m.set_sync_enabled(false, t(3)).map(|t| t.to),
            Some(Status::NotSyncing)
        );
        assert_eq!(m.set_sync_enabled(false, t(4)), None, "no change, no event");
        assert_eq!(m.since(), t(3));
        assert_eq!(
            m.set_sync_enabled(true, t(5)).map(|t| t.to),
            Some(Status::Active)
        );
    }

    #[test]
    fn errors_enter_from_any_status_and_recover_to_what_the_facts_say() {
        for (creds, enabled, setting_up) in [(true, true, true), (true, true, false)] {
            let mut m = StatusMachine::new(creds, enabled, setting_up, t(0));
            let before = m.status().clone();
            let tr = m.fail(err(ErrorKind::Network), t(1)).unwrap();
            assert_eq!(tr.from, before);
            assert_eq!(tr.to, Status::Error(err(ErrorKind::Network)));
            assert_eq!(m.recover(t(2)).unwrap().to, before);
        }
    }

    #[test]
    fn pause_outranks_transient_errors_but_not_ones_needing_the_operator() {
        let mut m = StatusMachine::new(true, true, false, t(0));
        m.fail(err(ErrorKind::QuotaThreshold), t(1));
        assert_eq!(
            m.set_sync_enabled(false, t(2)).unwrap().to,
            Status::NotSyncing
        );
        assert_eq!(
            m.error().map(|e| e.kind),
            Some(ErrorKind::QuotaThreshold),
            "the quota reason is kept for when syncing resumes"
        );
        assert!(matches!(
            m.set_sync_enabled(true, t(3)).unwrap().to,
            Status::Error(ErrorInfo {
                kind: ErrorKind::QuotaThreshold,
                ..
            })
        ));

        let mut m = StatusMachine::new(true, false, false, t(0));
        assert_eq!(m.status(), &Status::NotSyncing);
        let to = m.fail(err(ErrorKind::AuthRequired), t(1)).unwrap().to;
        assert!(matches!(
            to,
            Status::Error(ErrorInfo {
                kind: ErrorKind::AuthRequired,
                ..
            })
        ));
    }

    #[test]
    fn reauthorization_clears_auth_errors_only() {
        let mut m = StatusMachine::new(true, true, false, t(0));
        m.fail(err(ErrorKind::AuthRequired), t(1));
        assert_eq!(m.set_credentials(true, t(2)).unwrap().to, Status::Active);

        m.fail(err(ErrorKind::Config), t(3));
        assert_eq!(m.set_credentials(true, t(4)), None);
        assert_eq!(m.error().map(|e| e.kind), Some(ErrorKind::Config));
    }

    #[test]
    fn losing_credentials_means_not_connected_whatever_else() {
        let mut m = StatusMachine::new(true, true, false, t(0));
        m.fail(err(ErrorKind::Api), t(1));
        assert_eq!(
            m.set_credentials(false, t(2)).unwrap().to,
            Status::NotConnected
        );
    }

    #[test]
    fn a_changed_error_is_a_transition() {
        let mut m = StatusMachine::new(true, true, false, t(0));
        m.fail(err(ErrorKind::Network), t(1));
        let tr = m.fail(err(ErrorKind::Api), t(2)).unwrap();
        assert!(matches!(
            tr.from,
            Status::Error(ErrorInfo {
                kind: ErrorKind::Network,
                ..
            })
        ));
        assert_eq!(m.fail(err(ErrorKind::Api), t(3)), None);
        assert_eq!(m.since(), t(2));
    }
}
