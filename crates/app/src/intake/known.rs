//! The lead sources this node has looked up, kept in memory (issue 19: one
//! read per delivered lead was a round trip per lead), exact by the bus
//! (see [`crate::kept`]): every use case that changes or deletes a source
//! calls [`App::sources_changed`] after its commit.

use crate::App;
use crate::bus::BusEvent;
use crate::error::AppError;
use crate::kept::{Forget, Kept};
use leadteam_domain::{AccountId, SourceId};
use leadteam_store::sources::{self, SourceRow};

/// Sources kept at most (beyond, the cache starts again empty).
const MAX: usize = 10_000;

/// The lead sources known to this node.
#[derive(Clone)]
pub struct KnownSources(Kept<SourceId, SourceRow>);

impl KnownSources {
    pub fn new(bus: &crate::bus::Bus, db: &leadteam_store::Db) -> Self {
        KnownSources(Kept::new(bus, db, MAX, |e| match e {
            BusEvent::SourcesChanged {
                source: Some(id), ..
            } => Forget::One(*id),
            BusEvent::SourcesChanged { source: None, .. } => Forget::All,
            _ => Forget::Nothing,
        }))
    }

    /// The source `id`, from memory or else from the database.
    pub(crate) async fn get(&self, app: &App, id: SourceId) -> Result<Option<SourceRow>, AppError> {
        let miss = match self.0.get(&id) {
            Ok(row) => return Ok(Some(row)),
            Err(miss) => miss,
        };
        let row = {
            let mut c = app.db.conn().await?;
            sources::by_id(&mut c, id).await?
        };
        if let Some(row) = &row {
            self.0.keep(id, row.clone(), miss);
        }
        Ok(row)
    }
}

impl App {
    /// After committing a change to lead source `source` (`None`: every
    /// source of `account`, as when the account is deleted): this node
    /// forgets it now, the others when the bus tells them.
    pub(crate) fn sources_changed(&self, account: AccountId, source: Option<SourceId>) {
        self.sources.0.forget(source);
        self.bus
            .publish(BusEvent::SourcesChanged { account, source });
    }
}
