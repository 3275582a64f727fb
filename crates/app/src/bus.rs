//! In-process events for live notifications (server-sent events). Use cases
//! collect what they alert inside their transaction and publish after the
//! commit, so nobody hears of a change that did not happen.

use leadteam_domain::{AccountId, ClientId, MemberId, SessionId, Timestamp};
use leadteam_store::{Conn, StoreError, notifications};
use tokio::sync::broadcast;

/// Something a connected member may need to hear about.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BusEvent {
    /// A new alert for one member.
    Notification {
        account: AccountId,
        member: MemberId,
        id: i64,
        kind: String,
        client: Option<ClientId>,
        body: String,
        at: Timestamp,
    },
    /// A member's access changed (deactivated, removed, role changed): open
    /// streams re-check their session at once.
    AccessChanged {
        account: AccountId,
        member: MemberId,
    },
    /// A session ended (sign-out).
    SessionEnded { session: SessionId },
}

/// The broadcast bus. On one node it is an in-process channel; on
/// PostgreSQL, `connect_cluster` makes every node hear every node's events
/// through `LISTEN/NOTIFY`.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<BusEvent>,
    cluster: Option<tokio::sync::mpsc::UnboundedSender<BusEvent>>,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Bus { tx, cluster: None }
    }
}

/// The PostgreSQL channel events cross nodes on.
pub const PG_CHANNEL: &str = "leadteam_bus";

impl Bus {
    pub fn publish(&self, e: BusEvent) {
        match &self.cluster {
            // Sent through PostgreSQL; our own listener delivers it locally too.
            Some(c) => {
                if let Err(err) = c.send(e) {
                    let _ = self.tx.send(err.0);
                }
            }
            // No subscriber is not an error.
            None => {
                let _ = self.tx.send(e);
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.tx.subscribe()
    }

    /// Joins the cluster bus of the PostgreSQL database at `url`: events are
    /// sent with `pg_notify` through `db` and received by a `LISTEN`ing
    /// connection that feeds this node's subscribers.
    pub async fn connect_cluster(
        mut self,
        db: leadteam_store::Db,
        url: &str,
    ) -> Result<Bus, StoreError> {
        let mut listener = leadteam_store::pubsub::Listener::connect(url, PG_CHANNEL).await?;
        let local = self.tx.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(payload) => match serde_json::from_str::<BusEvent>(&payload) {
                        Ok(e) => {
                            let _ = local.send(e);
                        }
                        Err(e) => tracing::warn!(error = %e, "undecodable bus event"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "bus listener error; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        });
        let (ctx, mut crx) = tokio::sync::mpsc::unbounded_channel::<BusEvent>();
        let local = self.tx.clone();
        tokio::spawn(async move {
            while let Some(e) = crx.recv().await {
                let Ok(payload) = serde_json::to_string(&e) else {
                    continue;
                };
                if leadteam_store::pubsub::notify(&db, PG_CHANNEL, &payload)
                    .await
                    .is_err()
                {
                    // Better a local-only event than none.
                    let _ = local.send(e);
                }
            }
        });
        self.cluster = Some(ctx);
        Ok(self)
    }
}

/// Alerts written in a transaction, published once it commits.
#[derive(Debug, Default)]
pub struct Alerts {
    pending: Vec<BusEvent>,
}

impl Alerts {
    /// Writes the notification row and remembers it for publishing.
    #[allow(clippy::too_many_arguments)]
    pub async fn add(
        &mut self,
        conn: &mut Conn,
        account: AccountId,
        member: MemberId,
        kind: &str,
        client: Option<ClientId>,
        body: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let id = notifications::insert(conn, account, member, kind, client, body, now).await?;
        self.written(account, member, id, kind, client, body, now);
        Ok(())
    }

    /// Remembers a notification already written (by a bulk insert).
    #[allow(clippy::too_many_arguments)]
    pub fn written(
        &mut self,
        account: AccountId,
        member: MemberId,
        id: i64,
        kind: &str,
        client: Option<ClientId>,
        body: &str,
        at: Timestamp,
    ) {
        self.pending.push(BusEvent::Notification {
            account,
            member,
            id,
            kind: kind.to_owned(),
            client,
            body: body.to_owned(),
            at,
        });
    }

    pub fn access_changed(&mut self, account: AccountId, member: MemberId) {
        self.pending
            .push(BusEvent::AccessChanged { account, member });
    }

    /// Call after the commit.
    pub fn publish(self, bus: &Bus) {
        for e in self.pending {
            bus.publish(e);
        }
    }
}
