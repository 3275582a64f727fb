//! The callers of the sessions and API keys this node resolved, kept in
//! memory (issue 19: one statement less for every request, three for an API
//! key; on SQLite also the hops to a connection's thread), exact by the bus
//! (see [`crate::kept`]).
//!
//! - Every use case that changes what a caller is made of — a session ended
//!   or moved to another account, a user's password or second factor, a
//!   member's status, role, permissions, teams, zone or view, a role, a
//!   team, an account's settings, an API key revoked — calls
//!   [`App::callers_changed`] after its commit: this node forgets every
//!   kept caller before the answer goes out, the other nodes when the bus
//!   tells them.
//! - `leadteam admin`, run beside a server, announces its changes with
//!   [`announce_callers_changed`]; on SQLite a server looks for such an
//!   announcement before every use (see [`crate::kept`]).
//! - A kept caller serves only until its session expires or is due to
//!   slide its expiry (an API key: to be marked used), a minute after the
//!   last time; then it is read, and slid or marked, as before.
//! - Debug builds (the test suite) read every kept caller again and compare
//!   ([`crate::AppConfig::check_kept_callers`]).

use crate::App;
use crate::auth::{Caller, caller_of_token};
use crate::bus::BusEvent;
use crate::error::AppError;
use crate::kept::{Forget, Kept};
use leadteam_domain::Timestamp;
use leadteam_domain::secret::token_hash;

/// A caller as this node keeps it, with its session's times.
#[derive(Clone)]
pub(crate) struct KeptCaller {
    pub(crate) caller: Caller,
    pub(crate) expires_at: Timestamp,
    pub(crate) last_seen_at: Timestamp,
}

/// How long a session is used before its expiry slides (once a minute).
pub(crate) const SLIDE_AFTER_MS: i64 = 60_000;

/// Callers kept at most (beyond, the cache starts again empty).
const CALLERS_MAX: usize = 10_000;

/// The callers this node kept, by the hash of their session's token.
#[derive(Clone)]
pub struct KnownCallers {
    kept: Kept<String, KeptCaller>,
}

impl KnownCallers {
    pub(crate) fn new(bus: &crate::bus::Bus, db: &leadteam_store::Db) -> Self {
        KnownCallers {
            kept: Kept::new(bus, db, CALLERS_MAX, |e| match e {
                BusEvent::CallersChanged
                | BusEvent::AccessChanged { .. }
                | BusEvent::SessionEnded { .. } => Forget::All,
                _ => Forget::Nothing,
            }),
        }
    }
}

/// The caller of a session's or an API key's `token`: kept, or read (and
/// kept), or 401.
pub(crate) async fn of_token(app: &App, token: &str) -> Result<Caller, AppError> {
    let hash = token_hash(token);
    let known = &app.callers;
    let now = app.now();
    // Taken before the lookup, so a change forgotten after it counts.
    let before = app
        .config
        .check_kept_callers
        .then(|| known.kept.generation());
    let usable = |k: &KeptCaller| now < k.expires_at && now.0 - k.last_seen_at.0 <= SLIDE_AFTER_MS;
    let miss = match known.kept.get_if(&hash, usable) {
        Ok(k) => return checked(app, token, &hash, k.caller, before).await,
        Err(miss) => miss,
    };
    let found = read(app, token, &hash).await?;
    let caller = found.caller.clone();
    known.kept.keep(hash, found, miss);
    Ok(caller)
}

/// The caller of `token` (hashed `hash`), read from the rows.
async fn read(app: &App, token: &str, hash: &str) -> Result<KeptCaller, AppError> {
    if token.starts_with(crate::api_keys::PREFIX) {
        crate::api_keys::read_caller(app, hash).await
    } else {
        caller_of_token(app, hash).await
    }
}

impl App {
    /// After committing a change to what a caller is made of: this node
    /// forgets the callers it kept now, the others when the bus tells them.
    pub(crate) fn callers_changed(&self) {
        self.callers.kept.forget(None);
        self.bus.publish(BusEvent::CallersChanged);
    }
}

/// [`App::callers_changed`] from a process beside the servers (`leadteam
/// admin`): the servers running on this database are told too.
pub(crate) async fn announce_callers_changed(app: &App) -> Result<(), AppError> {
    app.callers_changed();
    let event = serde_json::to_string(&BusEvent::CallersChanged)
        .map_err(|e| AppError::Internal(crate::error::Fault::new("encoding a bus event", e)))?;
    app.db
        .announce_outside(crate::bus::PG_CHANNEL, &event)
        .await?;
    Ok(())
}

/// A kept caller, read again and compared when `check_kept_callers` is on
/// (debug builds; `generation`: the kept callers' before the lookup): a
/// difference is a change that committed without [`App::callers_changed`],
/// unless something is forgotten within a moment (a use case forgets just
/// after its commit).
async fn checked(
    app: &App,
    token: &str,
    hash: &str,
    kept: Caller,
    generation: Option<u64>,
) -> Result<Caller, AppError> {
    let Some(generation) = generation else {
        return Ok(kept);
    };
    let fresh = read(app, token, hash).await.map(|k| k.caller);
    let same = matches!(&fresh, Ok(f) if format!("{f:?}") == format!("{kept:?}"));
    if !same {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let forgotten = app.callers.kept.generation() != generation;
        tracing::error!(forgotten, kept = ?kept, fresh = ?fresh.as_ref().ok(), "a kept caller differs from its rows");
        assert!(
            forgotten,
            "a change to a caller committed and nothing forgot it: kept {kept:?}, read {:?}",
            fresh.as_ref().ok()
        );
    }
    fresh
}
