//! `leadteam-bench`: starts the release server on loopback with a fresh
//! database, seeds an account with 100 members, and measures over HTTP lead
//! ingest, claim races, client lists and sign-in; then runs the same use
//! cases in-process (the same SQL through the same pool settings, without
//! HTTP) so each figure is also given as a ratio to the engine's own limit.
//! Writes `BENCHMARKS.md` and prints the same table.

mod backup;
mod claims;
mod connections;
mod cpu;
mod import;
mod ingest;
mod lists;
mod report;
mod reports;
mod seed;
mod server;
mod signin;
mod sizes;
mod stats;

use clap::{Parser, ValueEnum};
use leadteam_app::{App, AppConfig, SystemClock};
use leadteam_store::{Db, Engine};
use report::Row;
pub(crate) use sizes::Sizes;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The server's allocator (see `crates/server/src/main.rs`), so that the
/// in-process figures run the app as the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
}

#[derive(Parser, Debug)]
#[command(name = "leadteam-bench", about = "Benchmarks of the leadteam server")]
struct Cli {
    /// The database engine to run on.
    #[arg(long, value_enum)]
    engine: EngineArg,
    /// Small sizes (a whole run in under a minute), to check the benchmark.
    #[arg(long)]
    quick: bool,
    /// PostgreSQL server (the bench creates and drops its own database there).
    #[arg(
        long,
        env = "LEADTEAM_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// The server binary (default: the release `leadteam`, built first).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where to write the report (default: BENCHMARKS.md at the workspace
    /// root for full runs; quick runs write nothing unless told).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Clients in the book the lists run over (default 1,000,000; quick
    /// 20,000; 10,000 with `--claims-only`).
    #[arg(long)]
    book: Option<usize>,
    /// Seconds measured per load (default 10; quick 1.5).
    #[arg(long)]
    seconds: Option<f64>,
    /// A note for the report (e.g. what else ran on the machine).
    #[arg(long)]
    note: Option<String>,
    /// Only measure `leadteam backup` and `leadteam restore` of the book
    /// (into an empty database of each engine); prints the figures.
    #[arg(long)]
    backup: bool,
    /// Only measure what this many idle connections cost the server (X7).
    #[arg(long)]
    connections: Option<usize>,
    /// Give every member a working-hours schedule and the default rule a
    /// first-contact limit before measuring (A8, A10 on every lead).
    #[arg(long)]
    schedules: bool,
    /// Only measure lead intake (skip claims, lists and sign-in).
    #[arg(long)]
    ingest_only: bool,
    /// Only measure the client lists (with their checks against the rule)
    /// over the book: `--lists-only --book 10000` and so on; prints the
    /// figures.
    #[arg(long, conflicts_with = "ingest_only")]
    lists_only: bool,
    /// Only measure the claim races (1,000 clients, 50 claimers on each;
    /// 20 with --quick) and check their winners, over a book of 10,000
    /// clients unless `--book` says otherwise; prints the figures.
    #[arg(long, conflicts_with_all = ["ingest_only", "lists_only"])]
    claims_only: bool,
    /// Only time `leadteam import` of a CSV file of this many rows (with
    /// duplicate checks) into a running server; prints the figures.
    #[arg(long)]
    import: Option<usize>,
    /// Only time the reports (D2) and the home (D1) on a book of clients
    /// that arrived over a year (in-process); prints the figures.
    #[arg(long)]
    reports: bool,
}

const SEED: u64 = 0x1ead_7ea3;
const INGEST_SENDERS: [usize; 3] = [1, 8, 32];
const LIST_READERS: [usize; 2] = [1, 8];
const SIGNIN_CONCURRENCY: usize = 4;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: leadteam-bench is a debug build; run it with --release for figures that mean something"
        );
    }
    if let Err(e) = main_inner(cli).await {
        eprintln!("leadteam-bench: {e}");
        std::process::exit(1);
    }
}

async fn main_inner(cli: Cli) -> Res<()> {
    let engine = match cli.engine {
        EngineArg::Sqlite => Engine::Sqlite,
        EngineArg::Postgres => Engine::Postgres,
    };
    let sizes = Sizes::of(&cli);
    let bin = server::server_binary(cli.server_bin.clone())?;
    let target = server::Target::create(engine, &cli.pg_url).await?;
    if let Some(n) = cli.connections {
        let r = connections::run(&bin, &target, n).await;
        target.destroy().await;
        return r;
    }
    if let Some(rows) = cli.import {
        let r = import::run(&bin, &target, rows).await;
        target.destroy().await;
        return r;
    }
    if cli.reports {
        let r = reports::run(&bin, &target, sizes.book).await;
        target.destroy().await;
        return r;
    }
    if cli.backup {
        let r = backup::run(&bin, &target, &cli.pg_url, sizes.book).await;
        target.destroy().await;
        return r;
    }
    let result = run(&cli, &sizes, &bin, &target).await;
    target.destroy().await;
    let section = result?;
    if cli.ingest_only || cli.lists_only || cli.claims_only {
        return Ok(());
    }
    let out = cli.out.clone().or_else(|| {
        (!cli.quick).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md"))
    });
    if let Some(path) = out {
        report::write_section(&path, engine.name(), &section)?;
        eprintln!("written to {}", path.display());
    }
    Ok(())
}

pub(crate) fn say(msg: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("[{t:7.1} s] {msg}");
}

pub(crate) struct Peaks<'a> {
    server: &'a server::Server,
    all: Vec<(String, u64)>,
}

impl Peaks<'_> {
    /// Peak since the last mark, recorded under `label`; resets it.
    fn mark(&mut self, label: &str) -> Option<u64> {
        let p = self.server.peak_kib();
        if let Some(k) = p {
            self.all.push((label.to_owned(), k));
        }
        self.server.reset_peak();
        p
    }

    fn max(&self) -> Option<&(String, u64)> {
        self.all.iter().max_by_key(|(_, k)| *k)
    }
}

async fn run(
    cli: &Cli,
    sizes: &Sizes,
    bin: &std::path::Path,
    target: &server::Target,
) -> Res<String> {
    let load_before = report::load_average();
    let started = Instant::now();
    say(&format!(
        "starting {} on {}",
        bin.display(),
        target.engine.name()
    ));
    let mut srv = server::Server::start(bin, target).await?;
    let http = seed::Http::new(&srv.base)?;
    let db = Db::connect(&target.url, None).await?;
    let mut app = App::new(
        db.clone(),
        Arc::new(SystemClock),
        AppConfig {
            base_url: srv.base.clone(),
            data_dir: target.dir.join("data-in-process"),
            ..AppConfig::default()
        },
    );
    if db.engine() == Engine::Postgres {
        // As the server does: live events cross nodes through LISTEN/NOTIFY.
        app.bus = app
            .bus
            .clone()
            .connect_cluster(db.clone(), &target.url)
            .await?;
    }
    let (engine_version, settings) = report::engine_facts(&db).await?;
    let mut peaks = Peaks {
        server: &srv,
        all: Vec::new(),
    };
    peaks.mark("start");

    say("seeding 100 members, 10 teams, sources and the round robin");
    let w = seed::world(&http, &db, &target.dir.join("data").join("mail")).await?;
    if cli.schedules {
        say("schedules on every member, a first-contact limit on the default rule");
        seed::schedules(&http, &w).await?;
    }
    say(&format!("seeding a book of {} clients", sizes.book));
    let t0 = Instant::now();
    let (first, last) = seed::book(&db, &w, sizes.book, sizes.batch, SEED).await?;
    let guests = seed::guests(&db, &w, first, last).await?;
    if db.engine() == Engine::Postgres {
        // As autovacuum leaves a table after a load (PostgreSQL 13 and
        // later vacuum a table that mostly grew by inserts): statistics,
        // and the visibility map that lets an index-only scan skip the
        // table. Without the map the planner costs an index-only scan as
        // reads of the table, and on 10,000 clients it sorted the
        // unassigned clients in arrival order for a list page instead of
        // reading 50 of them in the page's order.
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(&mut *db.conn().await?)
            .await?;
    }
    let seed_secs = t0.elapsed().as_secs_f64();
    peaks.mark("seeding");
    let mut rows = Vec::new();
    let mut checks = Vec::new();

    let senders: &[usize] = if cli.lists_only || cli.claims_only {
        &[]
    } else {
        &INGEST_SENDERS
    };
    for &n in senders {
        say(&format!("ingest, {n} senders"));
        let postgres = db.engine() == Engine::Postgres;
        let (leads0, cpu0) = (
            ingest::stored(&db, &w.source_http).await?,
            cpu::Cpu::now(srv.pid, postgres),
        );
        let h = ingest::http(&http, &w.source_http, n, sizes.warmup, sizes.measure).await?;
        let (leads1, cpu1) = (
            ingest::stored(&db, &w.source_http).await?,
            cpu::Cpu::now(srv.pid, postgres),
        );
        h.ensure_clean("ingest over HTTP")?;
        checks.push(format!(
            "CPU per lead over HTTP at {n} sender{} ({} leads, warm-up included): {}",
            if n == 1 { "" } else { "s" },
            leads1 - leads0,
            cpu1.per_op(
                cpu0,
                leads1.saturating_sub(leads0),
                crate::cpu::database(postgres)
            )
        ));
        checks.push(format!(
            "database writes per lead over HTTP at {n} sender{}: {} ({})",
            if n == 1 { "" } else { "s" },
            cpu1.writes_per_op(cpu0, leads1.saturating_sub(leads0)),
            if postgres {
                "every PostgreSQL process: its log, tables, indexes"
            } else {
                "the server: SQLite's write-ahead log and its checkpoints"
            }
        ));
        let peak = peaks.mark(&format!("ingest {n}"));
        let d = ingest::direct(&app, &w.source_direct, n, sizes.warmup, sizes.measure).await?;
        d.ensure_clean("ingest in-process")?;
        rows.push(Row {
            scenario: "ingest: signed webhook, weighted round robin over 20".into(),
            load: format!("{n} sender{}", if n == 1 { "" } else { "s" }),
            unit: "leads/s",
            http: Some(h),
            direct: Some(d),
            peak_kib: peak,
            target: if n == 32 {
                match db.engine() {
                    Engine::Sqlite => "≥ 10,000 leads/s, ≥ 0.6 of in-process".into(),
                    Engine::Postgres => "≥ 8,000 leads/s, ≥ 0.6 of in-process".into(),
                }
            } else {
                String::new()
            },
        });
    }
    if !cli.lists_only && !cli.claims_only {
        checks.push(format!(
            "ingest: {}",
            ingest::check_round_robin(&app, &w).await?
        ));
    }
    if cli.ingest_only {
        srv.stop();
        let out = format!("{}\n{}\n", report::table(&rows), checks.join("\n"));
        println!("{out}");
        return Ok(String::new());
    }

    if !cli.lists_only {
        claims::races(
            sizes,
            &http,
            &app,
            &db,
            srv.pid,
            &w,
            &mut peaks,
            &mut rows,
            &mut checks,
        )
        .await?;
    }
    if cli.claims_only {
        srv.stop();
        let out = format!("{}\n{}\n", report::table(&rows), checks.join("\n"));
        println!("{out}");
        return Ok(String::new());
    }

    let cursors = lists::Cursors::new(SEED, first, last);
    say("client lists: checking pages against the rule");
    checks.push(format!(
        "lists: {}",
        lists::check(&http, &app, &w, &cursors, sizes.list_checks).await?
    ));
    let list_target = match db.engine() {
        Engine::Sqlite => "p99 < 1 ms",
        Engine::Postgres => "p99 < 2 ms",
    };
    for &n in &LIST_READERS {
        say(&format!("client lists, {n} readers"));
        peaks.mark("before lists");
        let postgres = db.engine() == Engine::Postgres;
        let cpu0 = cpu::Cpu::now(srv.pid, postgres);
        let (h, pages) =
            lists::http(&http, &w, cursors.clone(), n, sizes.warmup, sizes.measure).await?;
        let cpu1 = cpu::Cpu::now(srv.pid, postgres);
        let peak = peaks.mark(&format!("lists {n}"));
        h.ensure_clean("lists over HTTP")?;
        checks.push(format!(
            "CPU per page over HTTP at {n} reader{} ({pages} pages, warm-up included): {}",
            if n == 1 { "" } else { "s" },
            cpu1.per_op(cpu0, pages, crate::cpu::database(postgres))
        ));
        let d = lists::direct(&app, &w, cursors.clone(), n, sizes.warmup, sizes.measure).await?;
        d.ensure_clean("lists in-process")?;
        rows.push(Row {
            scenario: format!(
                "visible-client list: pages of 50 at random depths, {} clients",
                group(sizes.book)
            ),
            load: format!("{n} reader{}", if n == 1 { "" } else { "s" }),
            unit: "pages/s",
            http: Some(h),
            direct: Some(d),
            peak_kib: peak,
            target: if n == 1 {
                list_target.into()
            } else {
                String::new()
            },
        });
    }
    let s = lists::statement(&app, &w, cursors.clone(), 1, sizes.warmup, sizes.measure).await?;
    s.ensure_clean("list statement")?;
    rows.push(Row {
        scenario: "… the list statement alone (store::clients::list)".into(),
        load: "1 reader".into(),
        unit: "pages/s",
        http: None,
        direct: Some(s),
        peak_kib: None,
        target: String::new(),
    });
    let s = lists::authentication(&app, &w, sizes.warmup, sizes.measure).await?;
    s.ensure_clean("authentication")?;
    rows.push(Row {
        scenario: "… a request's authentication alone (app::auth::authenticate)".into(),
        load: "1 reader".into(),
        unit: "requests/s",
        http: None,
        direct: Some(s),
        peak_kib: None,
        target: String::new(),
    });
    let plan = lists::plan(&app, &w, (first + last) / 2).await?;
    if cli.lists_only {
        srv.stop();
        let out = format!(
            "{}\n{}\n\n{plan}\n",
            report::table(&rows),
            checks.join("\n")
        );
        println!("{out}");
        return Ok(String::new());
    }

    say(&format!("sign-in, {SIGNIN_CONCURRENCY} at a time"));
    peaks.mark("before sign-in");
    let h = signin::http(&http, &w, SIGNIN_CONCURRENCY, sizes.warmup, sizes.measure).await?;
    let peak = peaks.mark("sign-in");
    h.ensure_clean("sign-in over HTTP")?;
    let d = signin::direct(&app, &w, SIGNIN_CONCURRENCY, sizes.warmup, sizes.measure).await?;
    d.ensure_clean("sign-in in-process")?;
    rows.push(Row {
        scenario: "sign-in: email + password (argon2id m=19 MiB, t=2)".into(),
        load: format!("{SIGNIN_CONCURRENCY} at a time"),
        unit: "sign-ins/s",
        http: Some(h),
        direct: Some(d),
        peak_kib: peak,
        target: "for the record".into(),
    });

    let overall = peaks
        .max()
        .map(|(l, k)| format!("{} MiB (during {l})", report::mib(*k)))
        .unwrap_or_else(|| "unknown".into());
    let peak_list: Vec<String> = peaks
        .all
        .iter()
        .map(|(l, k)| format!("{l} {}", report::mib(*k)))
        .collect();
    drop(peaks);
    if !srv.alive() {
        return Err(format!("the server died:\n{}", srv.log_text()).into());
    }
    drop(http);
    say("stopping the server");
    srv.stop();
    db.close().await;
    say("done");

    let table = report::table(&rows);
    println!("\n{table}");
    let load_after = report::load_average();
    let mut s = String::new();
    s.push_str(&format!(
        "## {}{}\n\n",
        match target.engine {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        },
        if cli.quick {
            " (quick run: small sizes)"
        } else {
            ""
        }
    ));
    s.push_str(&format!(
        "- date: {}; sources: commit {}; run took {:.0} s\n",
        report::date(),
        report::commit(),
        started.elapsed().as_secs_f64()
    ));
    s.push_str(&format!("- machine: {}\n", report::machine()));
    s.push_str(&format!(
        "- load average (1, 5, 15 min) before: {load_before}; after: {load_after} — a shared machine: other work ran during the measurements\n"
    ));
    s.push_str(&format!("- engine: {engine_version}; {settings}\n"));
    s.push_str(&format!(
        "- world: 1 account, 100 members (owner + 99 seeded through leadteam_store), 10 teams of 10; book of {} clients seeded with bulk INSERTs in {seed_secs:.0} s ({}% unassigned, the rest spread over the 99 members, each in its assignee's team); the list member (Member role + clients.view_team, one team) is a guest of {guests} other clients\n",
        group(sizes.book),
        seed::UNASSIGNED_PCT
    ));
    s.push_str(&format!(
        "- each load: {:.1} s warm-up, {:.1} s measured; claim races: a barrier releases all {} claimers at once on each client\n",
        sizes.warmup.as_secs_f64(),
        sizes.measure.as_secs_f64(),
        seed::CLAIMERS
    ));
    s.push_str(&format!(
        "- server peak memory (VmHWM): {overall}; per phase (MiB): {}\n",
        peak_list.join(", ")
    ));
    if let Some(n) = &cli.note {
        s.push_str(&format!("- note: {n}\n"));
    }
    s.push('\n');
    s.push_str(&table);
    s.push_str("\nChecks:\n\n");
    for c in &checks {
        s.push_str(&format!("- {c}\n"));
    }
    s.push_str(&format!(
        "\nPlan of the list statement at a middle cursor:\n\n```\n{plan}\n```\n"
    ));
    eprintln!("\n{}", checks.join("\n"));
    Ok(s)
}

/// 1000000 -> "1,000,000".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::group(1_000_000), "1,000,000");
        assert_eq!(super::group(20_000), "20,000");
        assert_eq!(super::group(999), "999");
    }
}
