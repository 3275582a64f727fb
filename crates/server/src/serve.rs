//! `leadteam serve`: migrate, listen, serve, and on SIGTERM (or Ctrl-C)
//! drain: stop accepting, end live streams, finish the requests in flight
//! (within the shutdown timeout), finish the intake batches they started,
//! give the outbox messages this node holds back to the queue, close the
//! database.

use crate::config::Settings;
use anyhow::Context;
use leadteam_app::{App, AppConfig, Clock, SystemClock};
use leadteam_store::Db;
use std::sync::Arc;
use std::time::Duration;

/// How long the intake writer and the mail worker get after the
/// connections drained (the whole stop takes at most the shutdown timeout
/// plus twice this).
const AFTER_CONNECTIONS: Duration = Duration::from_secs(5);

pub async fn run(s: &Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Mail settings are checked before anything starts.
    let from = leadteam_mail::parse_from(&s.mail_from)?;
    let transport = leadteam_mail::transport_for(s.smtp_url.as_deref(), &s.data_dir)?;
    let db = Db::connect(&s.database_url, None)
        .await
        .context("connecting to the database")?;
    let applied = db.migrate().await.context("migrating the database")?;
    let listener = tokio::net::TcpListener::bind(s.bind)
        .await
        .with_context(|| format!("binding {}", s.bind))?;
    let local = listener.local_addr()?;
    let base_url = s
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let mail_note = match s.smtp_url.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => None,
        _ => Some(format!(
            "No mail server is configured on this server: the message is saved in {} and its link is in the server's log.",
            s.data_dir.join("mail").display()
        )),
    };
    let config = AppConfig {
        base_url: base_url.clone(),
        data_dir: s.data_dir.clone(),
        mail_note,
        integrations: s.integrations.clone(),
        ..AppConfig::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut app = App::new(db.clone(), clock.clone(), config);
    let mailer = {
        let clock = clock.clone();
        let minter = app.clone();
        leadteam_mail::Mailer::spawn(
            db.clone(),
            transport,
            Arc::new(move || clock.now()),
            leadteam_mail::MailerConfig {
                from,
                secrets: Some(leadteam_mail::Secrets(Arc::new(move |purpose, id| {
                    leadteam_app::secrets::mint_boxed(&minter, purpose, id)
                }))),
                ..leadteam_mail::MailerConfig::default()
            },
        )
    };
    app.mail_waker = Some(mailer.waker());
    if db.engine() == leadteam_store::Engine::Postgres {
        // Live notifications reach members connected to any node.
        app.bus = app
            .bus
            .clone()
            .connect_cluster(db.clone(), &s.database_url)
            .await
            .context("listening for events on PostgreSQL")?;
    }
    // Outbound webhook deliveries and Graph API fetches (I6, I8).
    let workers = leadteam_app::workers::Workers::spawn(app.clone());
    let web = leadteam_web::Server::new(app.clone(), s.limits.clone());
    tracing::info!(
        engine = db.engine().name(),
        migrations_applied = applied,
        startup_ms = started.elapsed().as_millis() as u64,
        "leadteam listening on {local}"
    );
    println!("leadteam is running: open {base_url}/api/docs (API under {base_url}/api/v1)");
    let drained = web
        .run(listener, shutdown_signal())
        .await
        .context("serving")?;
    let stopping = std::time::Instant::now();
    if tokio::time::timeout(AFTER_CONNECTIONS, app.intake.drain())
        .await
        .is_err()
    {
        tracing::warn!(
            leads = app.intake.pending(),
            "intake batches still running at exit"
        );
    }
    if tokio::time::timeout(AFTER_CONNECTIONS, mailer.stop())
        .await
        .is_err()
    {
        tracing::warn!(
            "the mail worker did not stop in time: its messages are taken again after their lease"
        );
    }
    if tokio::time::timeout(AFTER_CONNECTIONS, workers.stop())
        .await
        .is_err()
    {
        tracing::warn!("the integration workers did not stop in time");
    }
    db.close().await;
    tracing::info!(
        clean = drained.clean,
        abandoned_connections = drained.abandoned,
        after_connections_ms = stopping.elapsed().as_millis() as u64,
        "stopped: requests in flight finished, intake batches stored, outbox claims given back"
    );
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
