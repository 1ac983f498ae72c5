//! One source's store shared by its concurrent object syncs. SQLite calls are blocking,
//! so they run on tokio's blocking pool, one at a time per store.

use std::sync::{Arc, Mutex};

use crate::store::{Store, StoreError};
use crate::sync::SyncError;

#[derive(Clone)]
pub struct SharedStore {
    inner: Arc<Mutex<Store>>,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore").finish_non_exhaustive()
    }
}

impl SharedStore {
    pub fn new(store: Store) -> SharedStore {
        SharedStore {
            inner: Arc::new(Mutex::new(store)),
        }
    }

    /// Run `f` with the store on the blocking pool.
    pub async fn with<T, F>(&self, f: F) -> Result<T, SyncError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside a store call leaves SQLite consistent (transactions roll back).
            let mut store = inner.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        })
        .await
        .map_err(|e| SyncError::Internal(format!("store task failed: {e}")))?
        .map_err(SyncError::Store)
    }

    /// Run `f` with the store on the current thread (startup, CLI).
    pub fn with_blocking<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut store)
    }
}
