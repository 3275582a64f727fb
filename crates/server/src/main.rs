//! The `leadteam` binary: `serve`, `migrate`, `openapi`, `import`,
//! `backup`, `restore`, `admin`, `config check`.

mod admin;
mod backup;
mod config;
mod import;
mod serve;

use anyhow::Context;

/// mimalloc rather than the C library's allocator: a request makes and
/// frees hundreds of small allocations on whichever worker thread polls it,
/// and glibc's arenas spent 16% of the server's samples in perf of the
/// claim races (`malloc`, `_int_free`, `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use config::{Flags, Settings};
use leadteam_store::Db;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "leadteam",
    version,
    about = "Team management and lead routing server",
    after_help = "Every setting is a flag, an environment variable (LEADTEAM_<NAME>) or a key of the \
                  configuration file (TOML, --config); `leadteam config check` prints them."
)]
struct Cli {
    #[command(flatten)]
    flags: Flags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (migrates the database first); SIGTERM drains it.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document to stdout.
    Openapi,
    /// Import clients from a CSV file into a running server (I3), with a
    /// progress bar; exits 2 when some rows were rejected.
    Import {
        /// The CSV file; its first line names the columns.
        file: PathBuf,
        /// The server's URL.
        #[arg(long, env = "LEADTEAM_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API key of the account (Settings > API keys), acting as its member.
        /// (A token may begin with `-`: it is taken as the value, not a flag.)
        #[arg(
            long,
            env = "LEADTEAM_TOKEN",
            hide_env_values = true,
            allow_hyphen_values = true
        )]
        token: String,
        /// Check the file and print the report; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Route the clients through the assignment rules (otherwise the
        /// key's member gets them).
        #[arg(long)]
        route: bool,
        /// Leave out rows whose email or phone a client the key's member may
        /// see already has (otherwise they are stored and flagged).
        #[arg(long)]
        skip_duplicates: bool,
        /// Column mapping: "Full Name:name,E-mail:email,Budget:field:Budget,Notes:-".
        #[arg(long)]
        map: Option<String>,
        /// Save the whole report (every rejected row) as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Write a consistent backup of the database and the uploaded files to
    /// FILE (a tar archive; gzipped when FILE ends in .gz); the server may
    /// be running.
    Backup { file: PathBuf },
    /// Restore a backup into an empty database of either engine (migrated on
    /// the way), with the same ids, and its files into the data folder.
    Restore {
        file: PathBuf,
        /// Delete every row of a database that is not empty first.
        #[arg(long)]
        replace: bool,
    },
    /// The operator's commands (written to the audit log as "system").
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print the effective settings and where each comes from (secrets
    /// hidden); exits 1 when a setting is wrong.
    Check,
}

fn init_logging(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    if let Command::Openapi = cli.command {
        println!(
            "{}",
            serde_json::to_string_pretty(&leadteam_web::openapi())?
        );
        return Ok(());
    }
    if let Command::Import {
        file,
        url,
        token,
        dry_run,
        route,
        skip_duplicates,
        map,
        report,
        quiet,
    } = &cli.command
    {
        let code = import::run(import::ImportArgs {
            file,
            url,
            token,
            dry_run: *dry_run,
            route: *route,
            skip_duplicates: *skip_duplicates,
            map: map.as_deref(),
            report: report.as_deref(),
            quiet: *quiet,
        })
        .await?;
        if code != 0 {
            std::process::exit(code);
        }
        return Ok(());
    }
    let settings = match Settings::resolve(&cli.flags, &matches) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("leadteam: configuration error: {e:#}");
            std::process::exit(1);
        }
    };
    init_logging(&settings.log, settings.log_json);
    match cli.command {
        Command::Openapi | Command::Import { .. } => Ok(()),
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            print!("{}", settings.describe());
            println!("# the configuration is valid");
            Ok(())
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database_url, None)
                .await
                .context("connecting to the database")?;
            let n = db.migrate().await.context("migrating")?;
            tracing::info!(applied = n, engine = db.engine().name(), "migrations done");
            Ok(())
        }
        Command::Serve => serve::run(&settings).await,
        Command::Backup { file } => {
            let db = Db::connect(&settings.database_url, Some(2))
                .await
                .context("connecting to the database")?;
            let started = std::time::Instant::now();
            let s = backup::backup(&db, &settings.data_dir, &file).await?;
            db.close().await;
            println!(
                "backup written to {}: {} tables, {} rows, {} files, {} bytes in {:.1} s",
                file.display(),
                s.tables,
                s.rows,
                s.files,
                s.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file, replace } => {
            let db = Db::connect(&settings.database_url, Some(2))
                .await
                .context("connecting to the database")?;
            let started = std::time::Instant::now();
            let s = backup::restore(&db, &settings.data_dir, &file, replace).await?;
            db.close().await;
            println!(
                "restored {} into {}: {} tables, {} rows, {} files in {:.1} s",
                file.display(),
                db.engine().name(),
                s.tables,
                s.rows,
                s.files,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Admin { command } => admin::run(&settings, command).await,
    }
}
