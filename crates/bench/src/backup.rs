//! `leadteam-bench --engine E --backup`: the time and size of `leadteam
//! backup` of a book of clients (1,000,000 by default) taken while the
//! server runs, and of `leadteam restore` of that archive into a new empty
//! database of each engine. Prints the figures; asserts nothing about time.

use crate::server::{Server, Target};
use crate::{Res, SEED, say, seed};
use leadteam_store::{Db, Engine};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Runs the release binary with `args`; its time and its stdout.
fn timed(bin: &Path, url: &str, data: &Path, args: &[&str]) -> Res<(f64, String)> {
    let started = Instant::now();
    let out = Command::new(bin)
        .args([
            "--database-url",
            url,
            "--data-dir",
            &data.display().to_string(),
        ])
        .args(args)
        .env("LEADTEAM_LOG", "warn")
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "leadteam {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok((secs, String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub async fn run(bin: &Path, target: &Target, pg_url: &str, book: usize) -> Res<()> {
    let srv = Server::start(bin, target).await?;
    let http = seed::Http::new(&srv.base)?;
    let db = Db::connect(&target.url, None).await?;
    say("seeding 100 members, 10 teams, sources and the round robin");
    let w = seed::world(&http, &db, &target.dir.join("data").join("mail")).await?;
    say(&format!("seeding a book of {book} clients"));
    seed::book(&db, &w, book, 2_000, SEED).await?;
    if db.engine() == Engine::Postgres {
        sqlx::raw_sql("ANALYZE")
            .execute(&mut *db.conn().await?)
            .await?;
    }
    let mut c = db.conn().await?;
    let clients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
        .fetch_one(&mut *c)
        .await?;
    drop(c);
    db.close().await;
    let data = target.dir.join("data");
    println!(
        "\nbackup and restore of {clients} clients ({} source, server running during the backup)\n",
        target.engine.name()
    );
    println!("| step | time | archive |");
    println!("|---|---|---|");
    for name in ["book.tar", "book.tar.gz"] {
        let file = target.dir.join(name);
        let (secs, out) = timed(
            bin,
            &target.url,
            &data,
            &["backup", &file.display().to_string()],
        )?;
        let size = std::fs::metadata(&file)?.len();
        say(&out);
        println!("| backup to {name} | {secs:.1} s | {} |", mib(size));
    }
    drop(srv);
    let file = target.dir.join("book.tar.gz");
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let into = Target::create(engine, pg_url).await?;
        let into_data = into.dir.join("data");
        let r = timed(
            bin,
            &into.url,
            &into_data,
            &["restore", &file.display().to_string()],
        );
        into.destroy().await;
        let (secs, out) = r?;
        say(&out);
        println!(
            "| restore book.tar.gz into an empty {} database | {secs:.1} s | |",
            engine.name()
        );
    }
    Ok(())
}
