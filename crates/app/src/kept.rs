//! Facts a node keeps in memory rather than reading them for every lead
//! (issue 19: lead sources, an account's routing settings, its webhook
//! subscriptions), kept exact by the bus.
//!
//! Every use case that changes such a fact calls the forgetting function of
//! its kind after its commit (before it answers), which forgets it here at
//! once and tells every other node through the bus. Each lookup first reads
//! what the bus brought since the last one; when the bus may have dropped
//! events (this cache fell behind the channel, or the PostgreSQL listener
//! reconnected: `BusEvent::Missed`), everything is forgotten. So is
//! everything when another process announced a change on this SQLite
//! database (`leadteam admin`, `restore --replace`: `Db::outside_changes`,
//! one `stat` per lookup). A value read while a change raced with it is not
//! kept (the generation moved on).

use crate::bus::{Bus, BusEvent};
use leadteam_store::Db;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::{self, error::TryRecvError};

/// What a bus event makes a cache forget.
pub(crate) enum Forget<K> {
    Nothing,
    One(K),
    All,
}

struct Inner<K, V> {
    events: broadcast::Receiver<BusEvent>,
    /// Bumped by every forgetting: a value read before is not kept.
    generation: u64,
    /// `Db::outside_changes` when last looked.
    outside: u64,
    rows: HashMap<K, V>,
}

impl<K: Eq + Hash, V> Inner<K, V> {
    fn forget(&mut self, what: Forget<K>) {
        match what {
            Forget::Nothing => return,
            Forget::One(k) => {
                self.rows.remove(&k);
            }
            Forget::All => self.rows.clear(),
        }
        self.generation += 1;
    }

    /// Applies what the bus brought since the last call, and forgets
    /// everything when another process announced a change on `db`.
    fn catch_up(&mut self, db: &Db, of: fn(&BusEvent) -> Forget<K>) {
        let outside = db.outside_changes();
        if outside != self.outside {
            self.outside = outside;
            self.forget(Forget::All);
        }
        loop {
            match self.events.try_recv() {
                Ok(BusEvent::Missed) | Err(TryRecvError::Lagged(_)) => self.forget(Forget::All),
                Ok(e) => self.forget(of(&e)),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}

/// Values by key, kept exact by the bus events that `of` maps to keys.
pub struct Kept<K, V> {
    inner: Arc<Mutex<Inner<K, V>>>,
    db: Db,
    of: fn(&BusEvent) -> Forget<K>,
    /// Values kept at most (beyond, the cache starts again empty).
    max: usize,
}

impl<K, V> Clone for Kept<K, V> {
    fn clone(&self) -> Self {
        Kept {
            inner: self.inner.clone(),
            db: self.db.clone(),
            of: self.of,
            max: self.max,
        }
    }
}

/// A value to read from the database: keep it with [`Kept::keep`] and this.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Miss(u64);

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    pub(crate) fn new(bus: &Bus, db: &Db, max: usize, of: fn(&BusEvent) -> Forget<K>) -> Self {
        Kept {
            inner: Arc::new(Mutex::new(Inner {
                events: bus.subscribe(),
                generation: 0,
                outside: db.outside_changes(),
                rows: HashMap::new(),
            })),
            db: db.clone(),
            of,
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock leaves nothing half-done here.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value kept for `key`, or what to keep the one read with.
    pub(crate) fn get(&self, key: &K) -> Result<V, Miss> {
        self.get_if(key, |_| true)
    }

    /// The value kept for `key` when it is still `usable` (a value kept
    /// with a time limit), or what to keep a fresh one with.
    pub(crate) fn get_if(&self, key: &K, usable: impl FnOnce(&V) -> bool) -> Result<V, Miss> {
        let mut inner = self.lock();
        inner.catch_up(&self.db, self.of);
        match inner.rows.get(key) {
            Some(v) if usable(v) => Ok(v.clone()),
            _ => Err(Miss(inner.generation)),
        }
    }

    /// How many times something was forgotten, the bus's events included:
    /// unchanged between two calls, nothing was.
    pub(crate) fn generation(&self) -> u64 {
        let mut inner = self.lock();
        inner.catch_up(&self.db, self.of);
        inner.generation
    }

    /// Keeps `value`, read from committed rows after [`Kept::get`] missed,
    /// unless something was forgotten since.
    pub(crate) fn keep(&self, key: K, value: V, miss: Miss) {
        let mut inner = self.lock();
        inner.catch_up(&self.db, self.of);
        if inner.generation == miss.0 {
            if inner.rows.len() >= self.max {
                inner.rows.clear();
            }
            inner.rows.insert(key, value);
        }
    }

    /// Forgets `key` (`None`: everything) now, on this node.
    pub(crate) fn forget(&self, key: Option<K>) {
        self.lock()
            .forget(key.map_or(Forget::All, |k| Forget::One(k)));
    }
}
