//! In-process events for live notifications (server-sent events). Use cases
//! collect what they alert inside their transaction and publish after the
//! commit, so nobody hears of a change that did not happen.

use leadteam_domain::{AccountId, ClientId, MemberId, SessionId, SourceId, Timestamp};
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
    /// A lead source changed or was deleted (`None`: every source of the
    /// account): nodes forget what they kept of it.
    SourcesChanged {
        account: AccountId,
        source: Option<SourceId>,
    },
    /// An account's routing settings changed (its rules, default rule or
    /// holidays): nodes forget what they kept of them.
    RoutingSettingsChanged { account: AccountId },
    /// An account's outbound webhook subscriptions changed (one created,
    /// changed, deleted or switched off): nodes forget what they kept of
    /// them.
    WebhooksChanged { account: AccountId },
    /// Something a request's caller is made of changed (a session ended or
    /// moved to another account; a password or second factor; a member's
    /// status, role, permissions, teams, zone or view; a role; a team; an
    /// account's settings; an API key revoked): nodes forget the callers
    /// they kept.
    CallersChanged,
    /// Events may have been lost (the PostgreSQL listener reconnected), or
    /// every row was replaced (`leadteam restore --replace`): what was kept
    /// on the strength of the bus is forgotten.
    Missed,
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
                    // The connection dropped and came back: notifications
                    // sent meanwhile are gone.
                    Ok(None) => {
                        tracing::warn!("bus listener reconnected; events may have been missed");
                        let _ = local.send(BusEvent::Missed);
                    }
                    // A payload is one event, or the events a node sent together.
                    Ok(Some(payload)) => match serde_json::from_str::<Payload>(&payload) {
                        Ok(Payload::Many(events)) => {
                            for e in events {
                                let _ = local.send(e);
                            }
                        }
                        Ok(Payload::One(e)) => {
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
            // Every event waiting is sent at once: packed into payloads of
            // at most PAYLOAD_BYTES, all in one statement (issue 19: one
            // round trip per burst rather than one per event).
            while let Some(first) = crx.recv().await {
                let mut events = vec![first];
                while events.len() < MAX_BATCH {
                    match crx.try_recv() {
                        Ok(e) => events.push(e),
                        Err(_) => break,
                    }
                }
                let payloads = pack(&events);
                if leadteam_store::pubsub::notify_all(&db, PG_CHANNEL, &payloads)
                    .await
                    .is_err()
                {
                    // Better local-only events than none.
                    for e in events {
                        let _ = local.send(e);
                    }
                }
            }
        });
        self.cluster = Some(ctx);
        Ok(self)
    }
}

/// Events sent together at most, and the size of one NOTIFY payload (under
/// PostgreSQL's 8000 bytes).
const MAX_BATCH: usize = 512;
const PAYLOAD_BYTES: usize = 7_000;

/// What one NOTIFY carries.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Payload {
    Many(Vec<BusEvent>),
    One(BusEvent),
}

/// `events` as JSON arrays of at most [`PAYLOAD_BYTES`] each (an event
/// larger than that alone in its array).
fn pack(events: &[BusEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::from("[");
    for e in events {
        let Ok(json) = serde_json::to_string(e) else {
            continue;
        };
        if cur.len() > 1 && cur.len() + json.len() + 2 > PAYLOAD_BYTES {
            cur.push(']');
            out.push(std::mem::replace(&mut cur, String::from("[")));
        }
        if cur.len() > 1 {
            cur.push(',');
        }
        cur.push_str(&json);
    }
    if cur.len() > 1 {
        cur.push(']');
        out.push(cur);
    }
    out
}

#[cfg(test)]
#[allow(clippy::panic)]
mod pack_tests {
    use super::*;

    #[test]
    fn events_are_packed_into_payloads_under_the_limit_and_read_back() {
        let events: Vec<BusEvent> = (0..300)
            .map(|i| BusEvent::SessionEnded {
                session: leadteam_domain::SessionId(i),
            })
            .collect();
        let payloads = pack(&events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= PAYLOAD_BYTES));
        let mut back = Vec::new();
        for p in &payloads {
            match serde_json::from_str::<Payload>(p) {
                Ok(Payload::Many(v)) => back.extend(v),
                _ => panic!("not an array: {p}"),
            }
        }
        assert_eq!(back.len(), 300);
        let one = serde_json::to_string(&events[0]).unwrap_or_default();
        assert!(matches!(
            serde_json::from_str::<Payload>(&one),
            Ok(Payload::One(_))
        ));
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
