//! SQLite connections kept between uses, without sqlx's test on release
//! (issue 19).
//!
//! sqlx tests every connection given back to its pool with a ping, in a
//! task spawned when the connection is dropped. On SQLite a ping is a hop
//! to the connection's thread and back, so each use of a connection (a
//! request's authentication, one client read) cost a second hop after it.
//! Nothing ends a SQLite connection behind our back (see
//! `db::pool_options`), so the connections of a SQLite pool are kept here
//! between uses, checked out of sqlx's pool, and handed out again without
//! a hop. A connection that needs more care goes back to sqlx's pool as
//! before: one inside a transaction sqlx counts, one marked to be closed,
//! and every one once the pool is closing.
//!
//! Every use of such a pool goes through its [`Keep`]: sqlx counts a kept
//! connection as taken, so the keep counts the turns itself, one per
//! connection of the pool, and a turn always finds a kept connection or a
//! free one in sqlx's pool.
//!
//! On PostgreSQL a [`Lease`] is only sqlx's pooled connection, and goes
//! back to sqlx's pool (and its ping: a server can end a connection).

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a use waits for a connection (sqlx's acquire timeout).
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The connections of one pool, kept between uses on SQLite.
#[derive(Clone)]
pub(crate) struct Keep {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    /// Connections checked out of `pool` and free for the next use, the
    /// one given back first at the front, as in sqlx's pool: a connection's
    /// thread may still be ending the statement it answered (stepping it
    /// to its end, resetting it) when the answer has arrived.
    idle: Mutex<VecDeque<PoolConnection<Any>>>,
    /// One per connection of `pool`; `None` when nothing is kept
    /// (PostgreSQL), and sqlx's pool counts alone.
    turns: Option<Arc<Semaphore>>,
}

impl std::fmt::Debug for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keep")
            .field("kept", &self.inner.turns.is_some())
            .finish_non_exhaustive()
    }
}

impl Keep {
    /// Keeps the connections of `pool` (at most `max`) between uses.
    pub(crate) fn kept(pool: AnyPool, max: u32) -> Keep {
        Keep::with(pool, Some(Arc::new(Semaphore::new(max as usize))))
    }

    /// Gives every connection back to `pool` after each use.
    pub(crate) fn passed(pool: AnyPool) -> Keep {
        Keep::with(pool, None)
    }

    fn with(pool: AnyPool, turns: Option<Arc<Semaphore>>) -> Keep {
        Keep {
            inner: Arc::new(Inner {
                pool,
                idle: Mutex::new(VecDeque::new()),
                turns,
            }),
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// A connection: a kept one when there is one, else one from sqlx's
    /// pool.
    pub(crate) async fn lease(&self) -> Result<Lease, sqlx::Error> {
        let Some(turns) = &self.inner.turns else {
            return Ok(Lease {
                conn: Some(self.inner.pool.acquire().await?),
                home: None,
                close: false,
            });
        };
        let turn = tokio::time::timeout(WAIT, Arc::clone(turns).acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let kept = self.inner.lock_idle().pop_front();
        let conn = match kept {
            Some(c) => c,
            None => self.inner.pool.acquire().await?,
        };
        Ok(Lease {
            conn: Some(conn),
            home: Some((Arc::clone(&self.inner), turn)),
            close: false,
        })
    }

    /// Gives the kept connections back and closes the pool (waiting for
    /// the connections in use).
    pub(crate) async fn close(&self) {
        if let Some(turns) = &self.inner.turns {
            turns.close();
        }
        let kept = std::mem::take(&mut *self.inner.lock_idle());
        drop(kept);
        self.inner.pool.close().await;
    }
}

impl Inner {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, VecDeque<PoolConnection<Any>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection in use. Dropped, it is kept for the next use (SQLite)
/// or given back to sqlx's pool.
pub struct Lease {
    conn: Option<PoolConnection<Any>>,
    /// Where it is kept, with its turn (SQLite).
    home: Option<(Arc<Inner>, OwnedSemaphorePermit)>,
    close: bool,
}

impl Lease {
    /// Closes the connection when it is dropped instead of keeping it.
    pub fn close_on_drop(&mut self) {
        self.close = true;
        if let Some(c) = self.conn.as_mut() {
            c.close_on_drop();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (Some(conn), Some((home, _turn))) = (self.conn.take(), self.home.take()) else {
            return;
        };
        // The turn is given back after the connection is in its place.
        if !self.close && !conn.is_in_transaction() && !home.pool.is_closed() {
            home.lock_idle().push_back(conn);
        }
    }
}

impl std::ops::Deref for Lease {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match &self.conn {
            Some(c) => c,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}
