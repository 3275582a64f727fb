use crate::error::StoreError;
use crate::keep::{Keep, Lease};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, Connection};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A write or read transaction on either engine. On SQLite a write
/// transaction also holds this process's writer turn until it ends, so
/// writers queue in order here instead of sleeping in SQLite's busy handler.
pub struct Tx {
    inner: Option<TxInner>,
    _turn: Option<OwnedSemaphorePermit>,
}

enum TxInner {
    /// PostgreSQL: sqlx's transaction on a pooled connection.
    Pooled(sqlx::Transaction<'static, Any>),
    /// SQLite: a kept connection (see [`crate::keep`]), the transaction
    /// begun and ended by our statements; `true` until it ended.
    Kept(Lease, bool),
}

impl Tx {
    /// Open from before its `BEGIN` is sent: dropped while that runs (a
    /// request given up) or when it fails, it is rolled back, or its
    /// connection closed, and never kept half-begun.
    async fn kept(lease: Lease, begin: &'static str) -> Result<Tx, StoreError> {
        let mut tx = Tx {
            inner: Some(TxInner::Kept(lease, true)),
            _turn: None,
        };
        sqlx::raw_sql(begin).execute(&mut *tx).await?;
        Ok(tx)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.end("COMMIT").await
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        self.end("ROLLBACK").await
    }

    async fn end(mut self, how: &'static str) -> Result<(), StoreError> {
        match self.inner.as_mut() {
            Some(TxInner::Pooled(_)) => match self.inner.take() {
                Some(TxInner::Pooled(t)) if how == "COMMIT" => Ok(t.commit().await?),
                Some(TxInner::Pooled(t)) => Ok(t.rollback().await?),
                _ => Ok(()),
            },
            Some(TxInner::Kept(lease, open)) => {
                sqlx::raw_sql(how).execute(&mut **lease).await?;
                *open = false;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// A kept transaction dropped before it ended is rolled back by a task of
/// its own, its connection kept for the next use only once that is done
/// (and closed, which rolls back too, when the rollback fails or no task
/// can run): the next write waits for the connection's turn meanwhile.
impl Drop for Tx {
    fn drop(&mut self) {
        let Some(TxInner::Kept(mut lease, true)) = self.inner.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *lease).await {
                        tracing::warn!(error = %e, "rolling back a dropped transaction; closing its connection");
                        lease.close_on_drop();
                    }
                });
            }
            Err(_) => lease.close_on_drop(),
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &Self::Target {
        match &self.inner {
            Some(TxInner::Pooled(t)) => t,
            Some(TxInner::Kept(lease, _)) => lease,
            None => unreachable!("a transaction holds its connection until dropped"),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.inner {
            Some(TxInner::Pooled(t)) => t,
            Some(TxInner::Kept(lease, _)) => lease,
            None => unreachable!("a transaction holds its connection until dropped"),
        }
    }
}
/// A connection (or a transaction, through `&mut *tx`) on either engine.
pub type Conn = AnyConnection;

/// A row lock taken by a read inside a write transaction, for a decision
/// that reads before it writes. Store renders it for the engine: `FOR
/// UPDATE` on PostgreSQL; nothing on SQLite, where the write transaction
/// (`BEGIN IMMEDIATE`) already holds the one write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lock {
    #[default]
    None,
    ForUpdate,
}

impl Lock {
    /// The clause to append to a `SELECT` on `c` (` FOR UPDATE` or nothing).
    pub(crate) fn clause(self, c: &Conn) -> &'static str {
        self.clause_of(c, "")
    }

    /// The same, locking only the rows of the table aliased `of` in a join.
    pub(crate) fn clause_of(self, c: &Conn, of: &str) -> &'static str {
        match (self, Engine::of(c)) {
            (Lock::None, _) | (_, Engine::Sqlite) => "",
            (Lock::ForUpdate, Engine::Postgres) => match of {
                "" => " FOR UPDATE",
                "m" => " FOR UPDATE OF m",
                "c" => " FOR UPDATE OF c",
                "g" => " FOR UPDATE OF g",
                _ => " FOR UPDATE",
            },
        }
    }
}

/// The database engine behind a connection. Only store looks at it: callers
/// ask for what they mean ([`Lock`], "next positions", "claim due rows") and
/// store picks the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine of a connection (or transaction).
    pub(crate) fn of(c: &Conn) -> Engine {
        if c.backend_name() == "PostgreSQL" {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// The one database handle.
#[derive(Clone, Debug)]
pub struct Db {
    /// Every connection but SQLite's writing one.
    pool: Keep,
    /// SQLite: the one writing connection.
    write_pool: Option<Keep>,
    engine: Engine,
    /// SQLite allows one writer at a time: the turn to write (one permit).
    writer: Arc<Semaphore>,
    /// Held by every clone: the checkpoint task ends with the last one.
    _alive: Arc<()>,
    /// Changes announced by other processes on this database (see
    /// [`crate::outside`]).
    pub(crate) outside: Arc<crate::outside::Outside>,
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`). For SQLite the
    /// file and its folder are created when missing, and every connection runs
    /// in WAL mode with `synchronous=NORMAL`, foreign keys on and a busy timeout.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Db, StoreError> {
        install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database url {url:?}: use sqlite://PATH or postgres://..."
            )));
        };
        let url = match engine {
            Engine::Sqlite => prepare_sqlite_url(url)?,
            Engine::Postgres => url.to_owned(),
        };
        let outside = Arc::new(crate::outside::Outside::new(engine, &url));
        let max = max_connections.unwrap_or(match engine {
            Engine::Sqlite => 8,
            Engine::Postgres => 16,
        });
        let sqlx_pool = pool_options(engine, max)
            .connect(&url)
            .await
            .map_err(StoreError::Db)?;
        let pool = match engine {
            Engine::Sqlite => Keep::kept(sqlx_pool, max),
            Engine::Postgres => Keep::passed(sqlx_pool),
        };
        // SQLite: one long-lived connection does every write transaction
        // (its prepared statements stay warm; the readers' pool never
        // waits on the write lock), and checkpoints run beside the
        // writer, not inside a commit (issue 19: autocheckpoint inside
        // intake commits drove their p99).
        let write_pool = match engine {
            Engine::Sqlite => {
                let w = pool_options(engine, 1)
                    .min_connections(1)
                    .connect(&url)
                    .await
                    .map_err(StoreError::Db)?;
                Some(Keep::kept(w, 1))
            }
            Engine::Postgres => None,
        };
        let alive = Arc::new(());
        let writer = Arc::new(Semaphore::new(1));
        if let Some(w) = &write_pool {
            tokio::spawn(checkpoints(
                pool.clone(),
                w.clone(),
                Arc::clone(&writer),
                Arc::downgrade(&alive),
            ));
        }
        Ok(Db {
            pool,
            write_pool,
            engine,
            writer,
            _alive: alive,
            outside,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        crate::migrate::run(self).await
    }

    /// Begins a write transaction: on SQLite, after this process's writer
    /// turn (in arrival order), `BEGIN IMMEDIATE`.
    pub async fn write(&self) -> Result<Tx, StoreError> {
        match self.engine {
            Engine::Sqlite => {
                let turn = Arc::clone(&self.writer)
                    .acquire_owned()
                    .await
                    .map_err(|e| StoreError::Config(e.to_string()))?;
                let keep = self.write_pool.as_ref().unwrap_or(&self.pool);
                let mut tx = Tx::kept(keep.lease().await?, "BEGIN IMMEDIATE").await?;
                tx._turn = Some(turn);
                Ok(tx)
            }
            Engine::Postgres => self.pooled("BEGIN").await,
        }
    }

    /// Begins a read transaction (a consistent snapshot for several reads).
    pub async fn read(&self) -> Result<Tx, StoreError> {
        match self.engine {
            Engine::Sqlite => Tx::kept(self.pool.lease().await?, "BEGIN").await,
            Engine::Postgres => self.pooled("BEGIN").await,
        }
    }

    /// A transaction of sqlx's on a connection of the pool (PostgreSQL).
    async fn pooled(&self, begin: &'static str) -> Result<Tx, StoreError> {
        Ok(Tx {
            inner: Some(TxInner::Pooled(self.pool.pool().begin_with(begin).await?)),
            _turn: None,
        })
    }

    /// The migration versions applied to the database, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        crate::migrate::applied(self).await
    }

    /// Checks that the database's schema is exactly this binary's, applying
    /// nothing (see `migrate::check_current`).
    pub async fn check_schema(&self) -> Result<(), StoreError> {
        crate::migrate::check_current(self).await
    }

    /// Begins a read-only transaction on one consistent snapshot of the
    /// whole database, for a backup: `REPEATABLE READ READ ONLY` on
    /// PostgreSQL; on SQLite (WAL) a read transaction sees the database as
    /// of its first read until it ends, while writers go on.
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        match self.engine {
            Engine::Sqlite => Tx::kept(self.pool.lease().await?, "BEGIN").await,
            Engine::Postgres => {
                self.pooled("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
    }

    /// A connection for single statements (kept between uses on SQLite,
    /// see [`crate::keep`]).
    pub async fn conn(&self) -> Result<Lease, StoreError> {
        Ok(self.pool.lease().await?)
    }

    /// For the rest of the transaction `c`, look rows up through indexes
    /// (PostgreSQL; nothing on SQLite). For bulk work on a table that grows
    /// fast: with statistics taken while the table was small, the planner
    /// scans the whole table for every batch of lookups (an import of
    /// 1,000,000 rows slowed to a crawl); every statement of such a
    /// transaction has an index to use.
    ///
    /// Plans stay cached: forcing a custom plan for every statement as well
    /// (as this did until issue 19) made PostgreSQL plan each 64-row INSERT
    /// of an import again, 5–9 ms against 2.3–2.8 ms with the cached plan
    /// (psql, `PREPARE` + `EXECUTE` of the import's statement), and each
    /// duplicate lookup of 500 values likewise. The lookups are written so
    /// that every plan probes an index per value (see
    /// `clients::existing_contacts`).
    pub async fn prefer_indexes(&self, c: &mut Conn) -> Result<(), StoreError> {
        if self.engine == Engine::Postgres {
            sqlx::raw_sql("SET LOCAL enable_seqscan = off")
                .execute(c)
                .await?;
        }
        Ok(())
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.pool.lease().await?;
        c.ping().await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(w) = &self.write_pool {
            w.close().await;
        }
        self.pool.close().await;
    }
}

/// The options of a pool on `engine` of at most `max` connections.
fn pool_options(engine: Engine, max: u32) -> AnyPoolOptions {
    let opts = AnyPoolOptions::new()
        .acquire_timeout(crate::keep::WAIT)
        // X7: a connection whose transaction the engine ended on its own
        // (SQLite rolls back on "database or disk is full") could come
        // back with sqlx still counting it open, and every later BEGIN on
        // it would fail; such a connection is closed, not handed out, so
        // writes work again as soon as space is back. (SQLite's
        // transactions are now begun and ended by `Tx` itself, which closes
        // a connection whose rollback fails; the check stays for any
        // transaction of sqlx's.)
        .before_acquire(|conn, _meta| {
            Box::pin(async move {
                if conn.is_in_transaction() {
                    tracing::warn!(
                        "closing a database connection left inside a transaction the database ended (disk full?)"
                    );
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .max_connections(max);
    match engine {
        Engine::Postgres => opts,
        // No checkpoint inside a commit: `checkpoints` runs them. No ping
        // of a connection taken from the pool (sqlx's default, a hop to the
        // connection's thread and back): nothing ends a SQLite connection
        // behind our back — a database server does, and PostgreSQL keeps
        // the check (X7) — and the one way one comes back unusable, still
        // in a transaction SQLite ended, is caught above without a hop.
        Engine::Sqlite => opts
            .test_before_acquire(false)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; \
                     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 134217728; \
                     PRAGMA temp_store = MEMORY;",
                    )
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            }),
    }
}

/// How often the SQLite write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Frames in the write-ahead log (4 KiB each) past which the next
/// checkpoint makes the writer start it again from the beginning.
const RESTART_FRAMES: i64 = 16_384;

/// Checkpoints the SQLite write-ahead log every [`CHECKPOINT_EVERY`]
/// (`PASSIVE`: beside readers and the writer, never waiting on them), until
/// the pool closes or the last handle is dropped.
///
/// A passive checkpoint copies the log back but does not make it start
/// again: SQLite restarts the log only when a write begins with every frame
/// copied and no reader on the log, which a writer that hardly pauses
/// seldom gives it. Under a steady stream of leads the log grew without
/// bound (1.8 GB after a one-minute benchmark, over an 84 MB database),
/// each write into new blocks that the kernel zeroes first (issue 19: 30%
/// of the writer thread's time in `perf`) and every read searching a
/// longer index. So when the log is past [`RESTART_FRAMES`], the checkpoint
/// takes the writer's turn and runs `RESTART` on the writer's own
/// connection: the rest is copied, and unless a reader is still on the log
/// the next write starts it from the beginning, into blocks already
/// written; `journal_size_limit` trims a log that had grown beyond 128 MiB
/// when it starts again. The restart never waits (busy timeout 0: another
/// process writing, or a reader on the log, and it gives up until the next
/// tick): waiting, it holds SQLite's write lock, and every writer of the
/// file waits behind it through SQLite's busy handler — seen as 19 ms
/// stalls of the server's intake while the benchmark's own process, which
/// opens the same file, waited 20 ms for readers at a time.
async fn checkpoints(
    pool: Keep,
    write_pool: Keep,
    writer: Arc<Semaphore>,
    alive: std::sync::Weak<()>,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.pool().is_closed() || alive.strong_count() == 0 {
            return;
        }
        let Ok(mut c) = pool.lease().await else {
            return;
        };
        // (busy, frames in the log, frames copied back)
        let frames = match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *c)
            .await
        {
            Ok((_, log, _)) => log,
            Err(e) => {
                tracing::debug!(error = %e, "checkpoint");
                continue;
            }
        };
        drop(c);
        if frames < RESTART_FRAMES {
            continue;
        }
        let Ok(_turn) = writer.acquire().await else {
            return;
        };
        let Ok(mut w) = write_pool.lease().await else {
            return;
        };
        let started = std::time::Instant::now();
        let restarted = match sqlx::raw_sql("PRAGMA busy_timeout = 0")
            .execute(&mut *w)
            .await
        {
            Ok(_) => sqlx::raw_sql("PRAGMA wal_checkpoint(RESTART)")
                .execute(&mut *w)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        match restarted {
            Ok(()) => tracing::debug!(
                frames,
                micros = started.elapsed().as_micros() as u64,
                "restarting checkpoint"
            ),
            Err(e) => tracing::debug!(error = %e, "restarting checkpoint"),
        }
        // The writer waits for the write lock as long as before; a
        // connection that cannot be told so is not kept.
        if sqlx::raw_sql("PRAGMA busy_timeout = 15000")
            .execute(&mut *w)
            .await
            .is_err()
        {
            w.close_on_drop();
        }
    }
}

fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "an in-memory SQLite database cannot be shared by the pool; name a file".into(),
        ));
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", parent.display())))?;
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_owned(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_owned(),
    };
    Ok(format!("sqlite://{path}?{query}"))
}
