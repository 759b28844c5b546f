//! What every handler and job shares: the pool, the settings, and the process-wide caches.
//! A leaf: it names no domain, so every domain may depend on it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// Values kept per key for a while: a domain's cache wraps one in its own type (so that
/// [`Caches`] tells it from another domain's).
pub struct Memo<K, V> {
    kept: Mutex<HashMap<K, (Instant, V)>>,
    /// A gate per key whose value is being made: callers that miss the same key at once (32
    /// clients as a minute turns) wait for the first one's value instead of each making it.
    making: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            kept: Mutex::new(HashMap::new()),
            making: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    /// The value kept for `key` if it was kept less than `ttl` ago.
    pub fn fresh(&self, key: &K, ttl: Duration) -> Option<V> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    /// The value kept for `key` if it was kept less than `ttl` ago, else what `make` gives,
    /// kept. (The lock is not held while `make` runs.)
    pub async fn fresh_or<E>(
        &self,
        key: K,
        ttl: Duration,
        make: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        self.once(key, ttl, |_| true, make).await
    }

    /// Keeps `value` for `key`, forgetting values older than `ttl`.
    pub fn keep(&self, key: K, value: V, ttl: Duration) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|_, (at, _)| at.elapsed() < ttl);
        kept.insert(key, (Instant::now(), value));
    }

    /// The value kept for `key` if `usable`, else what `make` gives, kept; made by one caller
    /// at a time per key, the others then finding it kept (or making it, if that one failed).
    async fn once<E>(
        &self,
        key: K,
        ttl: Duration,
        usable: impl Fn(&V) -> bool,
        make: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        let kept = || self.fresh(&key, ttl).filter(|v| usable(v));
        if let Some(value) = kept() {
            return Ok(value);
        }
        let gate = self
            .making
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let _turn = gate.lock().await;
        if let Some(value) = kept() {
            return Ok(value);
        }
        let made = make.await;
        if let Ok(value) = &made {
            self.keep(key.clone(), value.clone(), ttl);
        }
        self.making
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
        made
    }
}

impl<K: Eq + Hash + Clone, T: PartialEq + Clone, V: Clone> Memo<K, (T, V)> {
    /// The value kept for `key` at `version` if it was kept less than `ttl` ago, else what
    /// `make` gives, kept with `version`: for values whose source counts its changes (a
    /// version read first, so a value kept with it is never newer than it says).
    pub async fn current_or<E>(
        &self,
        key: K,
        version: T,
        ttl: Duration,
        make: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        let made = async { make.await.map(|value| (version.clone(), value)) };
        let kept = self.once(key, ttl, |(kept, _)| *kept == version, made);
        kept.await.map(|(_, value)| value)
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

    #[test]
    fn a_memo_forgets_what_is_older_than_asked() {
        let memo = Memo::<u8, &str>::default();
        memo.keep(1, "one", Duration::from_secs(60));
        assert_eq!(memo.fresh(&1, Duration::from_secs(60)), Some("one"));
        assert_eq!(memo.fresh(&2, Duration::from_secs(60)), None);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(memo.fresh(&1, Duration::from_millis(1)), None);
        memo.keep(2, "two", Duration::from_millis(1));
        assert_eq!(
            memo.kept.lock().map(|m| m.len()).ok(),
            Some(1),
            "one is forgotten"
        );
    }

    #[tokio::test]
    async fn fresh_or_makes_a_value_only_when_none_is_kept() {
        let memo = Memo::<u8, u32>::default();
        let ttl = Duration::from_secs(60);
        let made = std::sync::atomic::AtomicU32::new(0);
        let make =
            || async { Ok::<_, ()>(made.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 10) };
        assert_eq!(memo.fresh_or(1, ttl, make()).await, Ok(10));
        assert_eq!(memo.fresh_or(1, ttl, make()).await, Ok(10), "kept");
        assert_eq!(memo.fresh_or(2, ttl, make()).await, Ok(11), "another key");
        assert_eq!(
            memo.fresh_or(3, ttl, async { Err::<u32, ()>(()) }).await,
            Err(())
        );
        assert_eq!(memo.fresh(&3, ttl), None, "an error is not kept");
    }

    #[tokio::test]
    async fn current_or_makes_a_value_again_when_the_version_moves() {
        let memo = Memo::<u8, (i64, &str)>::default();
        let ttl = Duration::from_secs(60);
        let ok = |v| async move { Ok::<_, ()>(v) };
        assert_eq!(memo.current_or(1, 1, ttl, ok("first")).await, Ok("first"));
        assert_eq!(
            memo.current_or(1, 1, ttl, ok("second")).await,
            Ok("first"),
            "kept"
        );
        assert_eq!(
            memo.current_or(1, 2, ttl, ok("third")).await,
            Ok("third"),
            "moved"
        );
        assert_eq!(memo.current_or(1, 2, ttl, ok("fourth")).await, Ok("third"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_missing_one_key_at_once_wait_for_one_value() {
        let memo = Arc::new(Memo::<u8, (i64, u32)>::default());
        let made = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (memo, made) = (memo.clone(), made.clone());
            callers.spawn(async move {
                let make = async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, ()>(made.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                };
                memo.current_or(1, 7, Duration::from_secs(60), make).await
            });
        }
        while let Some(got) = callers.join_next().await {
            assert_eq!(got.ok(), Some(Ok(0)), "every caller has the one value made");
        }
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(
            memo.making.lock().is_ok_and(|m| m.is_empty()),
            "no gate left"
        );
    }
}
