//! The server under test: a fresh database (a SQLite file in a temporary
//! folder, or a PostgreSQL database created for the run and dropped after
//! it), the release `leadteam` binary as a child process on a free loopback
//! port, and its peak memory from `/proc`.

use crate::Res;
use leadteam_store::Engine;
use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The fresh database of a run.
pub struct Target {
    pub engine: Engine,
    pub url: String,
    /// Temporary folder: the SQLite file, the server's data folder and log.
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

fn unique() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).rotate_left(40)
}

fn pg_url_with_db(admin: &str, db: &str) -> String {
    match admin.rsplit_once('/') {
        Some((base, _)) if base.contains("//") && !base.ends_with('/') => format!("{base}/{db}"),
        _ => format!("{}/{db}", admin.trim_end_matches('/')),
    }
}

impl Target {
    pub async fn create(engine: Engine, pg_admin: &str) -> Res<Target> {
        let tag = format!("{:016x}", unique());
        let dir = std::env::temp_dir().join(format!("leadteam-bench-{tag}"));
        std::fs::create_dir_all(&dir)?;
        match engine {
            Engine::Sqlite => Ok(Target {
                engine,
                url: format!("sqlite://{}/leadteam.db", dir.display()),
                dir,
                pg: None,
            }),
            Engine::Postgres => {
                let name = format!("lt_bench_{tag}");
                let mut c = PgConnection::connect(pg_admin)
                    .await
                    .map_err(|e| format!("PostgreSQL at {pg_admin}: {e}"))?;
                c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await?;
                let _ = c.close().await;
                Ok(Target {
                    engine,
                    url: pg_url_with_db(pg_admin, &name),
                    dir,
                    pg: Some((pg_admin.to_owned(), name)),
                })
            }
        }
    }

    /// Drops the database and removes the folder (both kept, and named,
    /// with `LEADTEAM_BENCH_KEEP_DB=1`: to look at plans afterwards).
    pub async fn destroy(self) {
        if std::env::var("LEADTEAM_BENCH_KEEP_DB").is_ok_and(|v| v == "1") {
            eprintln!("kept the database: {}", self.url);
            return;
        }
        if let Some((admin, name)) = &self.pg
            && let Ok(mut c) = PgConnection::connect(admin).await
        {
            let _ = c
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
            let _ = c.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The release server binary: `explicit`, or `leadteam` in the release
/// folder of this target directory, built (or found up to date) with cargo
/// first so the figures are always of the current sources.
pub fn server_binary(explicit: Option<PathBuf>) -> Res<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("building the release server (cargo build --release -p leadteam) ...");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "leadteam"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(&workspace)
        .status()?;
    if !status.success() {
        return Err("cargo build --release -p leadteam failed".into());
    }
    Ok(target.join("release").join("leadteam"))
}

/// A running server.
pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
    log: PathBuf,
}

fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Server {
    pub async fn start(bin: &Path, target: &Target) -> Res<Server> {
        Server::start_with(bin, target, &[]).await
    }

    /// The same, with more flags for `leadteam serve`.
    pub async fn start_with(bin: &Path, target: &Target, extra: &[&str]) -> Res<Server> {
        let port = free_port()?;
        let log = target.dir.join("server.log");
        let child = Command::new(bin)
            .arg("serve")
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", &target.dir.join("data").display().to_string()])
            .args(extra)
            .env("LEADTEAM_DATABASE_URL", &target.url)
            // `LEADTEAM_BENCH_SERVER_LOG=sqlx::query=debug` logs every
            // statement with its time (a profile; it slows the server).
            .env(
                "LEADTEAM_LOG",
                std::env::var("LEADTEAM_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env_remove("LEADTEAM_SMTP_URL")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let pid = child.id();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            pid,
            log,
        };
        let http = reqwest::Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!(
                    "the server exited ({status}) during start-up:\n{}",
                    server.log_text()
                )
                .into());
            }
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                server.stop();
                return Err("the server did not answer /healthz within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn status_field(&self, field: &str) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = s.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Resident memory now (KiB).
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_field("VmRSS:")
    }

    /// Peak resident memory since start or the last `reset_peak` (KiB).
    pub fn peak_kib(&self) -> Option<u64> {
        self.status_field("VmHWM:")
    }

    /// Resets the peak to the current resident size (Linux `clear_refs` 5),
    /// so each scenario reports its own peak. False when refused.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM (graceful), then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_admin_database() {
        assert_eq!(
            pg_url_with_db("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            pg_url_with_db("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
    }
}
