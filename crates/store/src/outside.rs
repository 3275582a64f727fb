//! Changes another process announces on the same database (issue 19: what a
//! server keeps in memory of its callers). `leadteam admin`, run beside
//! `leadteam serve`, ends sessions or hands an account on; the server must
//! not go on serving what it kept of them.
//!
//! - On SQLite every process is on this machine: the announcing one puts a
//!   new file beside the database (`<file>-access`, written then renamed
//!   into place, so its identity changes whatever the clock's resolution),
//!   and a server looks at it — one `stat`, no statement — before it trusts
//!   what it kept.
//! - On PostgreSQL the processes may be on other machines: the announcement
//!   is a NOTIFY on the channel every server listens to (its bus).

use crate::db::{Db, Engine};
use crate::error::StoreError;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The identity of a stamp file: inode and modification time.
type Identity = (u64, i64, i64);

#[derive(Debug)]
pub(crate) struct Outside {
    /// SQLite: the stamp file.
    stamp: Option<PathBuf>,
    /// The stamp's identity when last looked at, and how many times it
    /// was seen to change.
    seen: Mutex<(Option<Identity>, u64)>,
}

impl Outside {
    /// For the database at `url` (as `Db::connect` prepared it).
    pub(crate) fn new(engine: Engine, url: &str) -> Outside {
        let stamp = match engine {
            Engine::Sqlite => {
                let rest = url.trim_start_matches("sqlite://");
                let path = rest.split_once('?').map_or(rest, |(p, _)| p);
                Some(PathBuf::from(format!("{path}-access")))
            }
            Engine::Postgres => None,
        };
        Outside {
            stamp,
            seen: Mutex::new((None, 0)),
        }
    }
}

fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.ino(), m.mtime(), m.mtime_nsec()))
}

impl Db {
    /// How many changes other processes have announced on SQLite, as far as
    /// this process has looked (a `stat`): a number other than the one seen
    /// before means something changed in between. Always 0 on PostgreSQL,
    /// where announcements come through the bus.
    pub fn outside_changes(&self) -> u64 {
        let Some(path) = &self.outside.stamp else {
            return 0;
        };
        let now = identity(path);
        let mut seen = self
            .outside
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seen.0 != now {
            seen.0 = now;
            seen.1 += 1;
        }
        seen.1
    }

    /// Tells the servers running on this database that something they keep
    /// in memory changed: on SQLite by a new stamp, on PostgreSQL by
    /// notifying `payload` on `channel`.
    pub async fn announce_outside(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        let Some(path) = &self.outside.stamp else {
            return crate::pubsub::notify_all(self, channel, &[payload.to_owned()]).await;
        };
        let fail =
            |e: std::io::Error| StoreError::Config(format!("cannot write {}: {e}", path.display()));
        let mut next = path.as_os_str().to_owned();
        next.push(format!(".{}", std::process::id()));
        let next = PathBuf::from(next);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::fs::write(&next, format!("{now}\n")).map_err(fail)?;
        std::fs::rename(&next, path).map_err(fail)
    }
}
