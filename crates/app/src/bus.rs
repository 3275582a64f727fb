//! In-process events for live notifications (server-sent events). Use cases
//! collect what they alert inside their transaction and publish after the
//! commit, so nobody hears of a change that did not happen.

use leadteam_domain::{AccountId, ClientId, MemberId, SessionId, Timestamp};
use leadteam_store::{Conn, StoreError, notifications};
use tokio::sync::broadcast;

/// Something a connected member may need to hear about.
#[derive(Debug, Clone)]
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

/// The broadcast bus of one server process.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<BusEvent>,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Bus { tx }
    }
}

impl Bus {
    pub fn publish(&self, e: BusEvent) {
        // No subscriber is not an error.
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.tx.subscribe()
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
        self.pending.push(BusEvent::Notification {
            account,
            member,
            id,
            kind: kind.to_owned(),
            client,
            body: body.to_owned(),
            at: now,
        });
        Ok(())
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
