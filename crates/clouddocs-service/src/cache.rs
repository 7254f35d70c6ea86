//! Read-through caches of rows that only this process writes.
//!
//! A SQLite database is served by exactly one CloudDocs process, so every change to a
//! cached row goes through this process's use cases, which invalidate the entry once their
//! transaction has committed: the cache is never stale. With PostgreSQL other nodes write
//! too, so the caches are off and every read goes to the database.
//!
//! A generation counter closes the read/invalidate race: a reader notes the generation
//! before it reads the database and fills the cache only if no invalidation happened
//! meanwhile, so a row read just before a concurrent commit can never be cached after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Entries kept at most; past it the cache starts over (a miss costs one query)
const CAPACITY: usize = 50_000;

/// A bounded map from id to a shared value, coherent with this process's own writes
pub(crate) struct LocalCache<V> {
    enabled: bool,
    inner: Mutex<Inner<V>>,
}

struct Inner<V> {
    generation: u64,
    entries: HashMap<String, Arc<V>>,
}

impl<V> std::fmt::Debug for LocalCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// What a reader saw before going to the database
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl<V> LocalCache<V> {
    /// A cache that stores anything only when `enabled` (this process is the only writer)
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            inner: Mutex::new(Inner {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value, or a ticket to fill the cache with after reading the database
    pub(crate) fn get(&self, key: &str) -> Result<Arc<V>, Ticket> {
        if !self.enabled {
            return Err(Ticket(0));
        }
        let inner = self.lock();
        match inner.entries.get(key) {
            Some(value) => Ok(value.clone()),
            None => Err(Ticket(inner.generation)),
        }
    }

    /// Caches `value` unless an invalidation happened since `ticket` was taken
    pub(crate) fn fill(&self, ticket: Ticket, key: &str, value: Arc<V>) {
        if !self.enabled {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != ticket.0 {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(key.to_owned(), value);
    }

    /// Forgets `key`; call after the transaction that changed it has committed
    pub(crate) fn invalidate(&self, key: &str) {
        if !self.enabled {
            return;
        }
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_entry_is_served_until_invalidated() {
        let cache = LocalCache::new(true);
        let Err(ticket) = cache.get("u1") else {
            panic!("empty cache hit")
        };
        cache.fill(ticket, "u1", Arc::new(1));
        assert_eq!(cache.get("u1").ok().as_deref(), Some(&1));
        cache.invalidate("u1");
        assert!(cache.get("u1").is_err());
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_cached() {
        let cache = LocalCache::new(true);
        let Err(ticket) = cache.get("u1") else {
            panic!("empty cache hit")
        };
        // A writer commits and invalidates while the reader holds the old row.
        cache.invalidate("u1");
        cache.fill(ticket, "u1", Arc::new("old"));
        assert!(cache.get("u1").is_err(), "the stale row must not be cached");
    }

    #[test]
    fn a_disabled_cache_never_stores() {
        let cache = LocalCache::new(false);
        let Err(ticket) = cache.get("u1") else {
            panic!("disabled cache hit")
        };
        cache.fill(ticket, "u1", Arc::new(1));
        assert!(cache.get("u1").is_err());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = LocalCache::new(true);
        for i in 0..(CAPACITY + 10) {
            if let Err(t) = cache.get(&i.to_string()) {
                cache.fill(t, &i.to_string(), Arc::new(i));
            }
        }
        assert!(cache.lock().entries.len() <= CAPACITY);
    }
}
