//! The lead sources this node has looked up, kept in memory (issue 19: one
//! read per delivered lead was a round trip per lead).
//!
//! Kept exact by the bus: every use case that changes or deletes a source
//! calls [`App::sources_changed`] after its commit, which forgets the source
//! here at once and tells every other node (`BusEvent::SourcesChanged`).
//! Each lookup first reads what the bus brought since the last one; when the
//! bus may have dropped events (this cache fell behind the channel, or the
//! PostgreSQL listener reconnected: `BusEvent::Missed`), everything is
//! forgotten. A lookup that raced with a change is not kept (generation).

use crate::App;
use crate::bus::{Bus, BusEvent};
use crate::error::AppError;
use leadteam_domain::{AccountId, SourceId};
use leadteam_store::sources::{self, SourceRow};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::{self, error::TryRecvError};

/// Sources kept at most (beyond, the cache starts again empty).
const MAX: usize = 10_000;

struct Inner {
    events: broadcast::Receiver<BusEvent>,
    /// Bumped by every forgetting: a lookup begun before is not kept.
    generation: u64,
    rows: HashMap<SourceId, SourceRow>,
}

impl Inner {
    fn forget(&mut self, source: Option<SourceId>) {
        self.generation += 1;
        match source {
            Some(id) => {
                self.rows.remove(&id);
            }
            None => self.rows.clear(),
        }
    }

    /// Applies what the bus brought since the last call.
    fn catch_up(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(BusEvent::SourcesChanged { source, .. }) => self.forget(source),
                Ok(BusEvent::Missed) | Err(TryRecvError::Lagged(_)) => self.forget(None),
                Ok(_) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}

/// The lead sources known to this node.
#[derive(Clone)]
pub struct KnownSources(Arc<Mutex<Inner>>);

impl KnownSources {
    pub fn new(bus: &Bus) -> Self {
        KnownSources(Arc::new(Mutex::new(Inner {
            events: bus.subscribe(),
            generation: 0,
            rows: HashMap::new(),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves nothing half-done here.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The source `id`, from memory or else from the database.
    pub(crate) async fn get(&self, app: &App, id: SourceId) -> Result<Option<SourceRow>, AppError> {
        let generation = {
            let mut inner = self.lock();
            inner.catch_up();
            if let Some(row) = inner.rows.get(&id) {
                return Ok(Some(row.clone()));
            }
            inner.generation
        };
        let row = {
            let mut c = app.db.conn().await?;
            sources::by_id(&mut c, id).await?
        };
        if let Some(row) = &row {
            let mut inner = self.lock();
            inner.catch_up();
            if inner.generation == generation {
                if inner.rows.len() >= MAX {
                    inner.rows.clear();
                }
                inner.rows.insert(id, row.clone());
            }
        }
        Ok(row)
    }

    fn forget(&self, source: Option<SourceId>) {
        self.lock().forget(source);
    }
}

impl App {
    /// After committing a change to lead source `source` (`None`: every
    /// source of `account`, as when the account is deleted): this node
    /// forgets it now, the others when the bus tells them.
    pub(crate) fn sources_changed(&self, account: AccountId, source: Option<SourceId>) {
        self.sources.forget(source);
        self.bus
            .publish(BusEvent::SourcesChanged { account, source });
    }
}
