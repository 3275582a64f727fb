//! The results table, the description of the machine and engine, and
//! `BENCHMARKS.md` (one section per engine, replaced by each run).

use crate::Res;
use crate::stats::{Sample, ms};
use leadteam_domain::billing::Day;
use leadteam_store::{Db, Engine};
use std::path::Path;
use std::process::Command;

/// One line of the table.
pub struct Row {
    pub scenario: String,
    pub load: String,
    pub unit: &'static str,
    pub http: Option<Sample>,
    pub direct: Option<Sample>,
    /// Peak resident memory of the server during the HTTP run (KiB).
    pub peak_kib: Option<u64>,
    pub target: String,
}

fn rate(s: &Option<Sample>) -> String {
    s.as_ref()
        .map(|s| format!("{:.0}", s.rate()))
        .unwrap_or_else(|| "–".into())
}

fn p(s: &Option<Sample>, pct: f64) -> String {
    s.as_ref()
        .map(|s| ms(s.pct(pct)))
        .unwrap_or_else(|| "–".into())
}

fn ratio(r: &Row) -> String {
    match (&r.http, &r.direct) {
        (Some(h), Some(d)) if d.rate() > 0.0 => format!("{:.2}", h.rate() / d.rate()),
        _ => "–".into(),
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.0}", kib as f64 / 1024.0)
}

/// The table in Markdown (also printed as is).
pub fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| scenario | load | HTTP rate | HTTP p50 ms | HTTP p99 ms | in-process rate | in-process p50 ms | in-process p99 ms | HTTP ÷ in-process | server peak MiB | target |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.load,
            if r.http.is_some() {
                format!("{} {}", rate(&r.http), r.unit)
            } else {
                "–".into()
            },
            p(&r.http, 50.0),
            p(&r.http, 99.0),
            if r.direct.is_some() {
                format!("{} {}", rate(&r.direct), r.unit)
            } else {
                "–".into()
            },
            p(&r.direct, 50.0),
            p(&r.direct, 99.0),
            ratio(r),
            r.peak_kib.map(mib).unwrap_or_else(|| "–".into()),
            r.target,
        ));
    }
    t
}

fn sh(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// CPU model, cores, memory and the load average now.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.1} GiB RAM", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "{cores} cores ({model}), {mem}, {}",
        sh("uname", &["-sr"]).unwrap_or_default()
    )
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// The UTC date and time now.
pub fn date() -> String {
    let now = crate::seed::now();
    let (y, m, d) = Day::from_timestamp(now).to_civil();
    let day_ms = now.0 - Day::from_timestamp(now).start().0;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        day_ms / 3_600_000,
        (day_ms / 60_000) % 60
    )
}

/// The commit of the sources measured (and whether they had changes).
pub fn commit() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = dir.display().to_string();
    let head = sh("git", &["-C", &d, "rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "?".into());
    let dirty = sh(
        "git",
        &["-C", &d, "status", "--porcelain", "--", "../../crates"],
    )
    .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head} with uncommitted changes")
    } else {
        head
    }
}

fn markers(engine: &str) -> (String, String) {
    (
        format!("<!-- leadteam-bench:{engine} -->"),
        format!("<!-- /leadteam-bench:{engine} -->"),
    )
}

const HEADER: &str = "# Benchmarks\n\n\
Written by `cargo run --release -p leadteam-bench -- --engine sqlite|postgres` (see the README).\n\
Each run replaces its engine's section below.\n\n";

/// Writes `section` as the engine's part of `path`, keeping everything else.
pub fn write_section(path: &Path, engine: &str, section: &str) -> Res<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| HEADER.to_owned());
    let (open, close) = markers(engine);
    let block = format!("{open}\n{}\n{close}", section.trim_end());
    let new = match (old.find(&open), old.find(&close)) {
        (Some(a), Some(b)) if b > a => {
            format!("{}{block}{}", &old[..a], &old[b + close.len()..])
        }
        _ => {
            let mut s = old.trim_end().to_owned();
            s.push_str("\n\n");
            s.push_str(&block);
            s.push('\n');
            s
        }
    };
    std::fs::write(path, new)?;
    Ok(())
}

/// The engine's version and the settings that bear on the figures.
pub async fn engine_facts(db: &Db) -> Res<(String, String)> {
    let mut c = db.conn().await?;
    match db.engine() {
        Engine::Sqlite => {
            let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&mut *c)
                .await?;
            let jm: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *c)
                .await?;
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *c)
                .await?;
            let sync = match sync {
                0 => "OFF",
                1 => "NORMAL",
                2 => "FULL",
                _ => "EXTRA",
            };
            Ok((
                format!("SQLite {v} (bundled with sqlx)"),
                format!(
                    "journal_mode={jm}, synchronous={sync}, server pool 8 connections (store default); no ANALYZE statistics (a fresh database as the server makes it)"
                ),
            ))
        }
        Engine::Postgres => {
            let mut facts = Vec::new();
            for s in [
                "server_version",
                "synchronous_commit",
                "fsync",
                "shared_buffers",
                "work_mem",
                "max_connections",
            ] {
                let v: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {s}")))
                    .fetch_one(&mut *c)
                    .await?;
                facts.push((s, v));
            }
            let version = facts[0].1.clone();
            let settings: Vec<String> =
                facts[1..].iter().map(|(k, v)| format!("{k}={v}")).collect();
            Ok((
                format!("PostgreSQL {version} on 127.0.0.1 (same machine)"),
                format!(
                    "{} (server defaults), server pool 16 connections (store default); VACUUM ANALYZE after seeding (as autovacuum leaves a loaded table)",
                    settings.join(", ")
                ),
            ))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_and_the_rest_kept() {
        let dir = std::env::temp_dir().join(format!("lt-bench-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("B.md");
        std::fs::write(&f, "# Benchmarks\n\nnotes\n").unwrap();
        write_section(&f, "sqlite", "one").unwrap();
        write_section(&f, "postgres", "pg").unwrap();
        write_section(&f, "sqlite", "two").unwrap();
        let s = std::fs::read_to_string(&f).unwrap();
        assert!(s.starts_with("# Benchmarks\n\nnotes\n"));
        assert!(s.contains("two") && !s.contains("one") && s.contains("pg"));
        assert!(s.find("two").unwrap() < s.find("pg").unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
