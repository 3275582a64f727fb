//! The `leadteam` binary: `serve`, `migrate`, `openapi`, `import`.

mod import;

use anyhow::Context;
use clap::{Parser, Subcommand};
use leadteam_app::{App, AppConfig, Clock, SystemClock};
use leadteam_store::Db;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "leadteam",
    version,
    about = "Team management and lead routing server"
)]
struct Cli {
    /// Database URL: sqlite://PATH (the default, embedded) or postgres://...
    #[arg(
        long,
        env = "LEADTEAM_DATABASE_URL",
        default_value = "sqlite://./leadteam-data/leadteam.db",
        global = true
    )]
    database_url: String,
    /// Log filter (e.g. info, leadteam=debug).
    #[arg(long, env = "LEADTEAM_LOG", default_value = "info", global = true)]
    log: String,
    /// Log as JSON lines.
    #[arg(
        long,
        env = "LEADTEAM_LOG_JSON",
        default_value_t = false,
        global = true
    )]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (migrates the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "LEADTEAM_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Public URL of the server, used in emailed links (default: http://BIND).
        #[arg(long, env = "LEADTEAM_BASE_URL")]
        base_url: Option<String>,
        /// SMTP server for outgoing mail (smtp://user:pass@host:port); without
        /// it, mail is written as .eml files under the data folder.
        #[arg(long, env = "LEADTEAM_SMTP_URL")]
        smtp_url: Option<String>,
        /// Sender of outgoing mail.
        #[arg(long, env = "LEADTEAM_MAIL_FROM", default_value = leadteam_mail::DEFAULT_FROM)]
        mail_from: String,
        /// Folder for files the server writes (mail as .eml without SMTP);
        /// default: the folder of the SQLite file, or ./leadteam-data.
        #[arg(long, env = "LEADTEAM_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Networks outbound webhooks may reach although they are not public
        /// (an intranet), comma separated: 10.0.0.0/8,fd00::/8. Empty: none.
        #[arg(long, env = "LEADTEAM_WEBHOOK_ALLOW_NETWORKS", default_value = "")]
        webhook_allow_networks: String,
        /// The Graph API's base URL, for Facebook lead details.
        #[arg(
            long,
            env = "LEADTEAM_GRAPH_BASE_URL",
            default_value = "https://graph.facebook.com/v21.0"
        )]
        graph_base_url: String,
    },
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
        #[arg(long, env = "LEADTEAM_TOKEN", hide_env_values = true)]
        token: String,
        /// Check the file and print the report; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Route the clients through the assignment rules (otherwise the
        /// key's member gets them).
        #[arg(long)]
        route: bool,
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
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&leadteam_web::openapi())?
            );
            Ok(())
        }
        Command::Import {
            file,
            url,
            token,
            dry_run,
            route,
            map,
            report,
            quiet,
        } => {
            let code = import::run(import::ImportArgs {
                file: &file,
                url: &url,
                token: &token,
                dry_run,
                route,
                map: map.as_deref(),
                report: report.as_deref(),
                quiet,
            })
            .await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Command::Migrate => {
            init_logging(&cli.log, cli.log_json);
            let db = Db::connect(&cli.database_url, None)
                .await
                .context("connecting to the database")?;
            let n = db.migrate().await.context("migrating")?;
            tracing::info!(applied = n, engine = db.engine().name(), "migrations done");
            Ok(())
        }
        Command::Serve {
            bind,
            base_url,
            smtp_url,
            mail_from,
            data_dir,
            webhook_allow_networks,
            graph_base_url,
        } => {
            init_logging(&cli.log, cli.log_json);
            let data_dir = data_dir.unwrap_or_else(|| default_data_dir(&cli.database_url));
            let mail = MailSettings {
                smtp_url,
                from: mail_from,
                data_dir,
            };
            let networks = leadteam_domain::net::Network::parse_list(&webhook_allow_networks)
                .map_err(|e| anyhow::anyhow!("LEADTEAM_WEBHOOK_ALLOW_NETWORKS: {e}"))?;
            let integrations = leadteam_app::IntegrationsConfig {
                webhook_allow_networks: networks,
                graph_base_url,
                ..leadteam_app::IntegrationsConfig::default()
            };
            serve(&cli.database_url, bind, base_url, mail, integrations).await
        }
    }
}

struct MailSettings {
    smtp_url: Option<String>,
    from: String,
    data_dir: PathBuf,
}

/// The folder of the SQLite file, or `./leadteam-data` for PostgreSQL.
fn default_data_dir(database_url: &str) -> PathBuf {
    let fallback = || PathBuf::from("./leadteam-data");
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return fallback();
    };
    let path = rest.trim_start_matches("//");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => fallback(),
    }
}

async fn serve(
    database_url: &str,
    bind: SocketAddr,
    base_url: Option<String>,
    mail: MailSettings,
    integrations: leadteam_app::IntegrationsConfig,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Mail settings are checked before anything starts.
    let from = leadteam_mail::parse_from(&mail.from)?;
    let transport = leadteam_mail::transport_for(mail.smtp_url.as_deref(), &mail.data_dir)?;
    let db = Db::connect(database_url, None)
        .await
        .context("connecting to the database")?;
    let applied = db.migrate().await.context("migrating the database")?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let local = listener.local_addr()?;
    let base_url = base_url.unwrap_or_else(|| format!("http://{local}"));
    let config = AppConfig {
        base_url: base_url.clone(),
        data_dir: mail.data_dir.clone(),
        integrations,
        ..AppConfig::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mailer = {
        let clock = clock.clone();
        leadteam_mail::Mailer::spawn(
            db.clone(),
            transport,
            Arc::new(move || clock.now()),
            leadteam_mail::MailerConfig {
                from,
                ..leadteam_mail::MailerConfig::default()
            },
        )
    };
    let mut app = App::new(db.clone(), clock, config);
    app.mail_waker = Some(mailer.waker());
    if db.engine() == leadteam_store::Engine::Postgres {
        // Live notifications reach members connected to any node.
        app.bus = app
            .bus
            .clone()
            .connect_cluster(db.clone(), database_url)
            .await
            .context("listening for events on PostgreSQL")?;
    }
    let workers = leadteam_app::workers::Workers::spawn(app.clone());
    let router = leadteam_web::router(app);
    tracing::info!(
        engine = db.engine().name(),
        migrations_applied = applied,
        startup_ms = started.elapsed().as_millis() as u64,
        "leadteam listening on {local}"
    );
    println!("leadteam is running: open {base_url}/api/docs (API under {base_url}/api/v1)");
    leadteam_web::serve(listener, router, shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("shutting down: requests in flight finished");
    mailer.stop().await;
    workers.stop().await;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_defaults_to_the_folder_of_the_sqlite_file() {
        let d = |u: &str| default_data_dir(u);
        assert_eq!(
            d("sqlite://./leadteam-data/leadteam.db"),
            PathBuf::from("./leadteam-data")
        );
        assert_eq!(
            d("sqlite:///var/lib/lt/x.db?mode=rwc"),
            PathBuf::from("/var/lib/lt")
        );
        assert_eq!(d("sqlite:x.db"), PathBuf::from("."));
        assert_eq!(d("postgres://u@h/db"), PathBuf::from("./leadteam-data"));
    }
}
