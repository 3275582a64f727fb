//! Test support: `spawn_app` starts the whole server on port 0 with a fresh
//! database (a SQLite file, or a PostgreSQL database created for the test and
//! dropped after it) and a hand-set clock; `both_engines!` runs one story on
//! both engines. Tests act over HTTP as a user would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod pg;

pub use client::{PASSWORD, Resp, User};
pub use leadteam_app::{Clock, ManualClock};

use leadteam_app::{App, AppConfig, SigninPolicy};
use leadteam_store::Db;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A running server with its own database.
pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub db: Db,
    pub engine: Engine,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The test's folder (SQLite file, uploaded files); removed on drop.
    pub dir: TempDir,
    pg_db: Option<String>,
}

/// Options for `spawn_with`.
#[derive(Clone)]
pub struct Options {
    pub signin: SigninPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            // The production policy, with short delays so tests stay quick.
            signin: SigninPolicy {
                base_delay_ms: 5,
                max_delay_ms: 20,
                ..SigninPolicy::default()
            },
        }
    }
}

/// Spawns the app on `engine`; `None` when PostgreSQL is not reachable and
/// not required (the skip is printed loudly).
pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_with(engine, Options::default()).await
}

pub async fn spawn_with(engine: Engine, opts: Options) -> Option<TestApp> {
    // The test's own folder: the SQLite file and the uploaded files.
    let dir = TempDir::new();
    let (url, pg_db) = match engine {
        Engine::Sqlite => {
            let url = format!("sqlite://{}/leadteam.db", dir.path.display());
            (url, None)
        }
        Engine::Postgres => {
            let (url, name) = pg::create_database().await?;
            (url, Some(name))
        }
    };
    let db = Db::connect(&url, Some(8))
        .await
        .expect("connect test database");
    db.migrate().await.expect("migrate test database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let base = format!("http://{addr}");
    let clock = ManualClock::default();
    let config = AppConfig {
        base_url: base.clone(),
        signin: opts.signin,
        data_dir: dir.path.clone(),
        ..AppConfig::default()
    };
    let app = App::new(db.clone(), Arc::new(clock.clone()), config);
    let router = leadteam_web::router(app);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = leadteam_web::serve(listener, router, async {
            let _ = rx.await;
        })
        .await;
    });
    Some(TestApp {
        base,
        addr,
        clock,
        db,
        engine,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        shutdown: Some(tx),
        server: Some(server),
        dir,
        pg_db,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and drops the database.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), h).await;
        }
        self.db.close().await;
        if let Some(name) = self.pg_db.take() {
            pg::drop_database(&name).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_db.take() {
            // Dropped without `stop()` (a failed test): drop the database on
            // a thread of its own, since we may be inside a runtime.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(pg::drop_database(&name));
                }
            })
            .join();
        }
    }
}

/// A temporary folder removed on drop.
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        use rand::Rng;
        let n: u64 = rand::thread_rng().r#gen();
        let path = std::env::temp_dir().join(format!("leadteam-test-{n:016x}"));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs `story(app)` as two tests, `sqlite` and `postgres`, in a module
/// named after the story.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::spawn_app($crate::Engine::Sqlite).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::spawn_app($crate::Engine::Postgres).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
        }
    )*};
}
