//! Why a run failed, and how that maps to the product's error kinds.

use crate::model::ErrorKind;
use crate::salesforce::{self, ErrorClass};
use crate::store::StoreError;
use crate::sync::quota::QuotaStop;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] salesforce::Error),
    #[error("local store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Quota(#[from] QuotaStop),
    #[error(
        "the authorizing user lacks {missing}; reauthorize the source as a Salesforce admin (API Enabled and View All Data)"
    )]
    MissingPermission { missing: String },
    #[error("{0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Transport failures the client tags with these codes are network trouble, not Salesforce's.
const NETWORK_CODES: &[&str] = &["TIMEOUT", "CONNECTION", "TRUNCATED_BODY"];

impl SyncError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SyncError::Api(e) => match e.class() {
                ErrorClass::AuthRequired => ErrorKind::AuthRequired,
                ErrorClass::QuotaExceeded | ErrorClass::Vetoed => ErrorKind::QuotaThreshold,
                ErrorClass::Permission => ErrorKind::PermissionDenied,
                ErrorClass::Retryable
                    if e.fault()
                        .is_some_and(|f| NETWORK_CODES.contains(&f.code.as_str())) =>
                {
                    ErrorKind::Network
                }
                ErrorClass::Retryable
                | ErrorClass::InvalidQueryLocator
                | ErrorClass::Fatal
                | ErrorClass::ReplicationRange => ErrorKind::Api,
            },
            SyncError::Quota(_) => ErrorKind::QuotaThreshold,
            SyncError::MissingPermission { .. } => ErrorKind::PermissionDenied,
            // A store server that is down or dropped the session comes back by itself: the
            // schedule keeps retrying (with backoff) instead of waiting for the operator.
            SyncError::Store(e) if e.is_transient() => ErrorKind::Network,
            SyncError::Store(_) | SyncError::Config(_) => ErrorKind::Config,
            SyncError::Internal(_) => ErrorKind::Api,
        }
    }
}
