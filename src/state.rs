//! What every handler and job shares: the pool, the settings, and the process-wide caches.
//! A leaf: it names no domain, so every domain may depend on it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::PgPool;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub caches: Arc<Caches>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// The state of a running application, on the system clock.
    pub fn new(db: PgPool, config: Config) -> Self {
        AppState::with_clock(db, config, Arc::new(SystemClock))
    }

    pub fn with_clock(db: PgPool, config: Config, clock: Arc<dyn Clock>) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            caches: Arc::default(),
            clock,
        }
    }
}

impl axum::extract::FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// Caches owned by the domains (the production model, back-test snapshots), one per type,
/// created on first use, so this module needs to name none of them.
#[derive(Default)]
pub struct Caches(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl Caches {
    /// The process's cache of type `T`.
    #[allow(clippy::expect_used)] // each entry is keyed by its own type's id
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let entry = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        entry
            .downcast::<T>()
            .expect("a cache stored under its own type")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_one_cache_shared_by_every_caller() {
        let caches = Caches::default();
        let a = caches.get::<Mutex<Vec<u8>>>();
        a.lock().unwrap_or_else(PoisonError::into_inner).push(7);
        let b = caches.get::<Mutex<Vec<u8>>>();
        assert_eq!(*b.lock().unwrap_or_else(PoisonError::into_inner), vec![7]);
        assert!(
            caches
                .get::<Mutex<Vec<u16>>>()
                .lock()
                .is_ok_and(|v| v.is_empty())
        );
    }
}
