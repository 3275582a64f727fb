//! The workers of a node: routing timers (A10 first-contact deadlines, A11
//! backlog drain), outbound webhook deliveries (I8) and Graph API fetches
//! (I6). Each runs when woken ([`App::events_queued`]) and
//! at least every `poll_ms`; several nodes share the work through leases in
//! the database.

use crate::App;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running workers; dropping the handle leaves them running until
/// [`Workers::stop`] or the end of the runtime.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts the workers on the current tokio runtime.
    pub fn spawn(app: App) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(crate::timers::run(app.clone(), stopped.clone())),
            tokio::spawn(run(app, stopped)),
        ];
        Workers { stop, tasks }
    }

    /// Stops the workers after the work in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn run(app: App, mut stopped: watch::Receiver<bool>) {
    let poll = Duration::from_millis(app.config.integrations.poll_ms.max(10));
    loop {
        if *stopped.borrow() {
            return;
        }
        let mut busy = false;
        match crate::webhooks::worker::run_once(&app).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!(error = %e, "webhook deliveries failed"),
        }
        match crate::intake::facebook::run_once(&app).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!(error = %e, "Graph API fetches failed"),
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = app.events_waker.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => return,
        }
    }
}
