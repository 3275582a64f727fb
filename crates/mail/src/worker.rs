//! The mail worker: claims due messages, sends them, records the outcome.

use crate::transport::{BoxFuture, Outgoing, SendError, Transport, compose};
use crate::{DEFAULT_FROM, Mailbox, parse_from};
use leadteam_domain::Timestamp;
use leadteam_store::outbox::{self, ClaimOptions, Claimed};
use leadteam_store::{Db, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Where the worker reads the time (the app's clock).
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// When a failed message is tried again: after attempt `n` fails, in
/// `first_delay_ms * 2^(n-1)` (at most `max_delay_ms`); after `max_attempts`
/// attempts the worker gives up and the row keeps its last error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_delay_ms: i64,
    pub max_delay_ms: i64,
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min ... at most 2 h; 10 attempts (about 4 h in all).
    fn default() -> Self {
        RetryPolicy {
            first_delay_ms: 30_000,
            max_delay_ms: 2 * 3_600_000,
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// When to try again after attempt `attempts` (1 for the first) failed at
    /// `now`; `None` to give up.
    pub fn retry_at(&self, attempts: i64, now: Timestamp) -> Option<Timestamp> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 62)).unwrap_or(62);
        let delay = self
            .first_delay_ms
            .max(1)
            .saturating_mul(2_i64.saturating_pow(exp))
            .min(self.max_delay_ms.max(1));
        Some(now.plus_millis(delay))
    }
}

/// Mints the secret of a message when it is sent (see
/// `leadteam_store::outbox::SECRET`): given what the secret is for and the
/// id of its row, stores the new secret's hash there and gives the secret;
/// `Ok(None)` when the row is gone (an invitation cancelled or accepted),
/// and the message is then not sent.
pub type MintFn =
    dyn Fn(String, i64) -> BoxFuture<'static, Result<Option<String>, String>> + Send + Sync;

/// The minter of a worker (the app's, wired by the server).
#[derive(Clone)]
pub struct Secrets(pub Arc<MintFn>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets")
    }
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// The sender of every message.
    pub from: Mailbox,
    /// How often the outbox is checked when nobody wakes the worker.
    pub poll_interval: Duration,
    /// Messages claimed at once.
    pub batch: i64,
    /// How long a claim lasts; a message whose worker died mid-send is taken
    /// again after it. Longer than `batch * send_timeout`.
    pub lease_ms: i64,
    /// A send that takes longer fails (and is retried).
    pub send_timeout: Duration,
    pub retry: RetryPolicy,
    /// Mints the secrets of messages that carry one; without it such a
    /// message cannot be sent (the worker gives up on it).
    pub secrets: Option<Secrets>,
}

impl Default for MailerConfig {
    fn default() -> Self {
        MailerConfig {
            // DEFAULT_FROM parses; the fallback is the same mailbox built by hand.
            from: parse_from(DEFAULT_FROM).unwrap_or_else(|_| {
                Mailbox::new(
                    Some("leadteam".into()),
                    lettre::Address::new_dangerous("no-reply", "localhost"),
                )
            }),
            poll_interval: Duration::from_secs(5),
            batch: 10,
            lease_ms: 15 * 60_000,
            send_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            secrets: None,
        }
    }
}

/// A running worker. Dropping it stops the worker too (after the message in
/// hand); [`Mailer::stop`] waits for that.
pub struct Mailer {
    waker: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Mailer {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(db: Db, transport: Arc<dyn Transport>, now: Now, config: MailerConfig) -> Mailer {
        let waker = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let worker = Worker {
            db,
            transport,
            now,
            config,
        };
        let task = tokio::spawn(worker.run(waker.clone(), stopped));
        Mailer { waker, stop, task }
    }

    /// A handle that wakes the worker (`notify_one`), for use cases that just
    /// queued a message: it goes out without waiting for the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.waker.clone()
    }

    /// Wakes the worker now.
    pub fn wake(&self) {
        self.waker.notify_one();
    }

    /// Stops the worker: the message being sent is finished and recorded,
    /// the rest of its batch is given back to the outbox.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "mail worker ended abnormally");
        }
    }
}

struct Worker {
    db: Db,
    transport: Arc<dyn Transport>,
    now: Now,
    config: MailerConfig,
}

fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

impl Worker {
    async fn run(self, waker: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        tracing::info!(transport = %self.transport.describe(), from = %self.config.from, "mail worker started");
        loop {
            if stopping(&stop) {
                break;
            }
            let more = match deliver_batch(
                &self.db,
                self.transport.as_ref(),
                &self.now,
                &self.config,
                &stop,
            )
            .await
            {
                Ok(n) => n as i64 >= self.config.batch.max(1),
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker cannot read the outbox; trying again");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                _ = waker.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                r = stop.changed() => if r.is_err() { break },
            }
        }
        tracing::info!("mail worker stopped");
    }
}

async fn deliver_batch(
    db: &Db,
    transport: &dyn Transport,
    now: &Now,
    config: &MailerConfig,
    stop: &watch::Receiver<bool>,
) -> Result<usize, StoreError> {
    let claimed = outbox::claim_due(
        db,
        now(),
        ClaimOptions {
            limit: config.batch.max(1),
            lease_ms: config.lease_ms,
            max_attempts: config.retry.max_attempts,
        },
    )
    .await?;
    let n = claimed.len();
    let mut pending = claimed.into_iter();
    while let Some(m) = pending.next() {
        if stopping(stop) {
            for m in std::iter::once(m).chain(pending.by_ref()) {
                persist("release", m.id, || async move {
                    let mut c = db.conn().await?;
                    outbox::release(&mut c, m.id).await
                })
                .await;
            }
            break;
        }
        deliver_one(db, transport, now, config, m).await;
    }
    Ok(n)
}

async fn deliver_one(
    db: &Db,
    transport: &dyn Transport,
    now: &Now,
    config: &MailerConfig,
    m: Claimed,
) {
    let (id, attempts) = (m.id, m.attempts);
    let mut m = m;
    if let Some((purpose, ref_id)) = m.secret.clone() {
        let minted = match &config.secrets {
            None => Err("no secret minter is configured".to_owned()),
            Some(Secrets(mint)) => mint(purpose.clone(), ref_id).await,
        };
        match minted {
            Ok(Some(secret)) => m.body_text = m.body_text.replace(outbox::SECRET, &secret),
            Ok(None) => {
                // The invitation (or request) is gone: nothing to send.
                persist("record not sent", id, || async move {
                    let mut c = db.conn().await?;
                    let why = "not sent: what it was for was cancelled or used meanwhile";
                    outbox::record_failure(&mut c, id, why, None).await
                })
                .await;
                tracing::info!(id, kind = %m.kind, "mail not sent: its {purpose} is gone");
                return;
            }
            Err(e) => {
                let retry_at = config.retry.retry_at(attempts, now());
                persist("record failure", id, || {
                    let e = e.clone();
                    async move {
                        let mut c = db.conn().await?;
                        outbox::record_failure(&mut c, id, &e, retry_at).await
                    }
                })
                .await;
                tracing::warn!(id, kind = %m.kind, error = %e, "mail not sent: its secret could not be made");
                return;
            }
        }
    }
    let sent = match compose(&config.from, &m) {
        // A message that cannot be built never will be: give up at once.
        Err(e) => Err((e, true)),
        Ok(out) => send(transport, &out, config.send_timeout)
            .await
            .map_err(|e| (e, false)),
    };
    match sent {
        Ok(()) => {
            let at = now();
            persist("mark sent", id, || async move {
                let mut c = db.conn().await?;
                outbox::mark_sent(&mut c, id, at).await.map(|_| ())
            })
            .await;
            tracing::info!(id, kind = %m.kind, attempts, "mail sent");
        }
        Err((e, permanent)) => {
            let retry_at = if permanent {
                None
            } else {
                config.retry.retry_at(attempts, now())
            };
            let error = e.to_string();
            persist("record failure", id, || {
                let error = error.clone();
                async move {
                    let mut c = db.conn().await?;
                    outbox::record_failure(&mut c, id, &error, retry_at).await
                }
            })
            .await;
            match retry_at {
                Some(at) => {
                    tracing::warn!(id, kind = %m.kind, attempts, retry_at = at.0, error = %e, "mail not sent; will retry")
                }
                None => {
                    tracing::error!(id, kind = %m.kind, attempts, error = %e, "mail not sent; giving up")
                }
            }
        }
    }
}

async fn send(
    transport: &dyn Transport,
    out: &Outgoing,
    timeout: Duration,
) -> Result<(), SendError> {
    match tokio::time::timeout(timeout, transport.send(out)).await {
        Ok(r) => r,
        Err(_) => Err(SendError(format!(
            "no answer within {} s from {}",
            timeout.as_secs(),
            transport.describe()
        ))),
    }
}

/// Runs a short database write, trying a few times: once a message is sent,
/// losing its `sent_at` would send it again when the lease ends.
async fn persist<F, Fut>(what: &str, id: i64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    const TRIES: u64 = 5;
    for attempt in 1..=TRIES {
        match f().await {
            Ok(()) => return,
            Err(e) if attempt < TRIES => {
                tracing::warn!(id, error = %e, "mail worker: cannot {what}; trying again");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => tracing::error!(id, error = %e, "mail worker: cannot {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let p = RetryPolicy {
            first_delay_ms: 1_000,
            max_delay_ms: 10_000,
            max_attempts: 6,
        };
        let t = Timestamp(1_000_000);
        let delays: Vec<Option<i64>> = (1..=6)
            .map(|n| p.retry_at(n, t).map(|at| at.0 - t.0))
            .collect();
        assert_eq!(
            delays,
            vec![
                Some(1_000),
                Some(2_000),
                Some(4_000),
                Some(8_000),
                Some(10_000),
                None
            ]
        );
        let big = RetryPolicy {
            max_attempts: i64::MAX,
            ..p
        };
        assert_eq!(big.retry_at(500, t), Some(t.plus_millis(10_000)));
        assert_eq!(RetryPolicy::default().retry_at(10, t), None);
    }
}
