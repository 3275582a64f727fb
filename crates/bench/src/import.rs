//! `leadteam-bench --engine E --import N`: the time of `leadteam import` of
//! a CSV file of N rows (default 1,000,000) into a running server, every
//! row checked for a duplicate email or phone among the clients the
//! importer sees (one row in 1,000 repeats the email of a row 5,001
//! earlier, stored by then, so some are found). Prints the figures; asserts nothing about time.

use crate::server::{Server, Target};
use crate::{Res, say, seed};
use leadteam_store::Db;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Writes the CSV file; its size in bytes.
fn write_csv(path: &Path, rows: usize) -> Res<u64> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(f, "name,email,phone,city")?;
    for i in 0..rows {
        // Every 1,000th row repeats the email of the row 5,001 before it
        // (a row of its own email, stored by then).
        let e = if i % 1_000 == 999 && i > 5_001 {
            i - 5_001
        } else {
            i
        };
        writeln!(
            f,
            "Imported {i},import-{e}@example.com,+1 555 {:07},City {}",
            i % 10_000_000,
            i % 97
        )?;
    }
    f.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

pub async fn run(bin: &Path, target: &Target, rows: usize) -> Res<()> {
    let srv = Server::start(bin, target).await?;
    let http = seed::Http::new(&srv.base)?;
    let db = Db::connect(&target.url, None).await?;
    say("seeding 100 members, 10 teams, sources and the round robin");
    let w = seed::world(&http, &db, &target.dir.join("data").join("mail")).await?;
    let csv = target.dir.join("import.csv");
    let bytes = write_csv(&csv, rows)?;
    let before = srv.peak_kib().unwrap_or(0);
    srv.reset_peak();
    say(&format!("importing {rows} rows ({bytes} bytes)"));
    let postgres = target.engine == leadteam_store::Engine::Postgres;
    let (cpu0, cli0) = (
        crate::cpu::Cpu::now(srv.pid, postgres),
        crate::cpu::children_secs(),
    );
    let started = Instant::now();
    let out = Command::new(bin)
        .args(["import", &csv.display().to_string(), "--quiet"])
        .args(["--url", &srv.base, "--token", &w.owner_token])
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    let (cpu1, cli1) = (
        crate::cpu::Cpu::now(srv.pid, postgres),
        crate::cpu::children_secs(),
    );
    let report = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() && out.status.code() != Some(2) {
        return Err(format!(
            "leadteam import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let mut c = db.conn().await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE account_id = $1")
        .bind(w.account.0)
        .fetch_one(&mut *c)
        .await?;
    drop(c);
    db.close().await;
    println!(
        "\nCSV import on {}: {rows} rows ({:.1} MB) in {secs:.1} s = {:.0} rows/s; \
         {stored} clients stored; server peak {:.0} MiB during the import ({:.0} MiB before)\n",
        target.engine.name(),
        bytes as f64 / 1e6,
        rows as f64 / secs,
        srv.peak_kib().unwrap_or(0) as f64 / 1024.0,
        before as f64 / 1024.0,
    );
    if std::env::var_os("LEADTEAM_BENCH_SERVER_LOG").is_some() {
        let kept = std::env::temp_dir().join("leadteam-bench-import-server.log");
        std::fs::copy(target.dir.join("server.log"), &kept)?;
        println!("server log kept in {}", kept.display());
    }
    println!(
        "CPU per 1,000 rows: {}; `leadteam import` {:.3} ms",
        cpu1.per_op(cpu0, (rows / 1_000) as u64, crate::cpu::database(postgres)),
        (cli1 - cli0) * 1000.0 / (rows / 1_000).max(1) as f64,
    );
    let summary: Vec<&str> = report.lines().take(12).collect();
    println!("{}", summary.join("\n"));
    // Every row of the file is valid, and duplicates are flagged, not
    // skipped: each row must be a client now.
    if stored != rows as i64 {
        return Err(format!(
            "the import stored {stored} clients of {rows} rows (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}
