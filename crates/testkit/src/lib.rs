//! Test support: `spawn_app` starts the whole server on port 0 with a fresh
//! database (a SQLite file, or a PostgreSQL database created for the test and
//! dropped after it) and a hand-set clock, and its mail worker writing `.eml`
//! files into the test's folder (`app.mails()`, `app.wait_for_mail(to, ..)`);
//! `both_engines!` runs one story on both engines. Tests act over HTTP as a
//! user would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod fixtures;
mod mail;

pub use client::{EventStream, PASSWORD, Resp, User};
pub use leadteam_app::{Clock, ManualClock};
pub use leadteam_store::testing::TempDir;
pub use mail::{Mail, link_in, links_in, parse_eml, read_mail_dir};

use leadteam_app::{App, AppConfig, SigninPolicy};
use leadteam_mail::{Mailer, MailerConfig, Transport};
use leadteam_store::Db;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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
    /// Where the File transport writes `<id>.eml` (read by `mails()`).
    pub mail_dir: PathBuf,
    /// Wakes the app's mail worker (None when `start_mailer` was false).
    pub mail_waker: Option<Arc<Notify>>,
    /// The test's temporary folder (the SQLite file, mail ...).
    pub dir: TempDir,
    mailer: Option<Mailer>,
    mails_taken: Mutex<HashSet<String>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    workers: Option<leadteam_app::workers::Workers>,
    pg_db: Option<String>,
    db_url: String,
    /// How outbound webhooks are delivered (each node of the cluster the
    /// same).
    integrations: leadteam_app::IntegrationsConfig,
    /// Whether the server reads its kept callers again (each node the same).
    check_kept_callers: bool,
}

/// Options for `spawn_with`.
#[derive(Clone)]
pub struct Options {
    pub signin: SigninPolicy,
    /// Start the mail worker with the app (as `serve` does).
    pub start_mailer: bool,
    /// The worker's transport; default: `.eml` files in `mail_dir`.
    pub mail_transport: Option<Arc<dyn Transport>>,
    /// The worker's settings (the poll is short so a missing wake-up only
    /// slows a test down).
    pub mailer: MailerConfig,
    /// Timeouts and caps of the server (X7); the shutdown waits 5 s at most.
    pub limits: leadteam_web::Limits,
    /// Outbound webhooks and Graph API fetches (short retries for tests).
    pub integrations: leadteam_app::IntegrationsConfig,
    /// Read every caller the server kept again and compare (on: the whole
    /// suite proves every change to a caller is forgotten; off in the
    /// stories that prove the forgetting itself).
    pub check_kept_callers: bool,
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
            start_mailer: true,
            mail_transport: None,
            mailer: MailerConfig {
                poll_interval: std::time::Duration::from_millis(250),
                ..MailerConfig::default()
            },
            limits: leadteam_web::Limits {
                shutdown_timeout: std::time::Duration::from_secs(5),
                ..leadteam_web::Limits::default()
            },
            integrations: leadteam_app::IntegrationsConfig {
                poll_ms: 100,
                retry_first_ms: 200,
                retry_max_ms: 2_000,
                max_attempts: 4,
                request_timeout_ms: 5_000,
                ..leadteam_app::IntegrationsConfig::default()
            },
            check_kept_callers: true,
        }
    }
}

/// Spawns the app on `engine`; `None` when PostgreSQL is not reachable and
/// not required (the skip is printed loudly).
pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_with(engine, Options::default()).await
}

pub async fn spawn_with(engine: Engine, opts: Options) -> Option<TestApp> {
    let (url, pg_db) = match engine {
        Engine::Sqlite => (String::new(), None),
        Engine::Postgres => {
            let (url, name) = leadteam_store::testing::create_pg_database().await?;
            (url, Some(name))
        }
    };
    let dir = TempDir::new();
    let url = match engine {
        Engine::Sqlite => format!("sqlite://{}/leadteam.db", dir.path.display()),
        Engine::Postgres => url,
    };
    let mail_dir = dir.path.join("mail");
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
        integrations: opts.integrations.clone(),
        // Tests move the clock and wait for the routing worker (A10, A11).
        routing_poll_ms: 100,
        check_kept_callers: opts.check_kept_callers,
        ..AppConfig::default()
    };
    let mut app = App::new(db.clone(), Arc::new(clock.clone()), config);
    let mailer = if opts.start_mailer {
        let transport = match opts.mail_transport {
            Some(t) => t,
            None => Arc::new(leadteam_mail::FileTransport::new(&mail_dir).expect("mail dir")),
        };
        let now = clock.clone();
        let minter = app.clone();
        let mut mailer_config = opts.mailer;
        mailer_config.secrets = Some(leadteam_mail::Secrets(Arc::new(move |purpose, id| {
            leadteam_app::secrets::mint_boxed(&minter, purpose, id)
        })));
        Some(Mailer::spawn(
            db.clone(),
            transport,
            Arc::new(move || now.now()),
            mailer_config,
        ))
    } else {
        None
    };
    let mail_waker = mailer.as_ref().map(Mailer::waker);
    app.mail_waker = mail_waker.clone();
    if engine == Engine::Postgres {
        // Live events cross nodes through LISTEN/NOTIFY, as in production.
        app.bus = app
            .bus
            .clone()
            .connect_cluster(db.clone(), &url)
            .await
            .expect("cluster bus");
    }
    let workers = leadteam_app::workers::Workers::spawn(app.clone());
    let web = leadteam_web::Server::new(app, opts.limits.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = web
            .run(listener, async {
                let _ = rx.await;
            })
            .await;
    });
    Some(TestApp {
        workers: Some(workers),
        base,
        addr,
        clock,
        db,
        engine,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        mail_dir,
        mail_waker,
        dir,
        mailer,
        mails_taken: Mutex::new(HashSet::new()),
        shutdown: Some(tx),
        server: Some(server),
        pg_db,
        db_url: url,
        integrations: opts.integrations,
        check_kept_callers: opts.check_kept_callers,
    })
}

impl TestApp {
    /// A second server node on the same PostgreSQL database (several
    /// stateless nodes share one database in production). Its clock is this
    /// node's clock.
    pub async fn another_node(&self) -> TestApp {
        assert_eq!(
            self.engine,
            Engine::Postgres,
            "only PostgreSQL is shared by several nodes"
        );
        let db = Db::connect(&self.db_url, Some(8)).await.expect("connect");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let config = AppConfig {
            base_url: base.clone(),
            routing_poll_ms: 100,
            integrations: self.integrations.clone(),
            check_kept_callers: self.check_kept_callers,
            ..AppConfig::default()
        };
        let mut app = App::new(db.clone(), Arc::new(self.clock.clone()), config);
        app.bus = app
            .bus
            .clone()
            .connect_cluster(db.clone(), &self.db_url)
            .await
            .expect("cluster bus");
        // Each node runs its own workers (routing timers, outbound events),
        // as `leadteam serve` does.
        let workers = leadteam_app::workers::Workers::spawn(app.clone());
        let web = leadteam_web::Server::new(app, Options::default().limits);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = web
                .run(listener, async {
                    let _ = rx.await;
                })
                .await;
        });
        let dir = TempDir::new();
        TestApp {
            base,
            addr,
            clock: self.clock.clone(),
            db,
            engine: self.engine,
            http: self.http.clone(),
            mail_dir: dir.path.join("mail"),
            mail_waker: None,
            dir,
            mailer: None,
            mails_taken: Mutex::new(HashSet::new()),
            shutdown: Some(tx),
            server: Some(server),
            workers: Some(workers),
            pg_db: None,
            db_url: self.db_url.clone(),
            integrations: self.integrations.clone(),
            check_kept_callers: self.check_kept_callers,
        }
    }

    /// The database URL of this app (for tools run beside it).
    pub fn database_url(&self) -> &str {
        &self.db_url
    }

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
        if let Some(w) = self.workers.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), w.stop()).await;
        }
        if let Some(m) = self.mailer.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), m.stop()).await;
        }
        self.db.close().await;
        if let Some(name) = self.pg_db.take() {
            leadteam_store::testing::drop_pg_database(&name).await;
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
                    rt.block_on(leadteam_store::testing::drop_pg_database(&name));
                }
            })
            .join();
        }
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

/// Like [`both_engines!`], with the server's options given by `options()`
/// (an expression of type [`Options`]).
#[macro_export]
macro_rules! both_engines_with {
    ($options:expr; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::spawn_with($crate::Engine::Sqlite, $options).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::spawn_with($crate::Engine::Postgres, $options).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
        }
    )*};
}
