//! Outbound webhooks (I8): an admin (`integrations.manage`) subscribes a URL
//! to events; each event is written with [`emit`] in the transaction of the
//! change, and delivered by any node's worker ([`worker`]) signed, with
//! retries and backoff. A URL that resolves to a loopback, private,
//! link-local or metadata address is refused when saved and again at each
//! delivery, unless the operator allowed its network.

mod target;
pub mod worker;

pub use leadteam_store::webhooks::{DeliveryRow as WebhookDeliveryRow, WebhookRow};
pub use target::check_url;

use crate::App;
use crate::auth::{Caller, random_token};
use crate::bus::BusEvent;
use crate::error::AppError;
use crate::kept::{Forget, Kept};
use leadteam_domain::authz::Action;
use leadteam_domain::webhooks::{EVENTS, is_event};
use leadteam_domain::{AccountId, FieldError, Timestamp, ValidationErrors};
use leadteam_store::{Conn, webhooks};
use serde_json::{Value, json};
use std::sync::Arc;

/// Writes event `kind` (one of [`EVENTS`]) with `data` for every
/// subscription of the account that names it, in the caller's transaction:
/// it goes out only if that transaction commits. Call
/// [`App::events_queued`] after the commit to send it at once. (Used by the
/// use cases of this crate; `lead.reclaimed` is for the reclaim timer.)
pub async fn emit(
    app: &App,
    tx: &mut Conn,
    account: AccountId,
    kind: &str,
    data: Value,
    now: Timestamp,
) -> Result<(), AppError> {
    debug_assert!(is_event(kind), "unknown event {kind}");
    // The account's subscriptions as this node knows them (exact by the
    // bus): an event nobody subscribed to costs no statement.
    let subs = app.subscriptions.get(tx, account).await?;
    webhooks::emit_to(tx, account, &subs, kind, &data, now).await?;
    Ok(())
}

/// Accounts' subscriptions kept at most (beyond, the cache starts again
/// empty).
const SUBSCRIPTIONS_MAX: usize = 10_000;

/// An account's enabled subscriptions: (id, events named).
type Subscriptions = Arc<Vec<(i64, Vec<String>)>>;

/// The enabled subscriptions of the accounts this node took leads for
/// (issue 19: one read per intake batch), exact by the bus (see
/// [`crate::kept`]): every change — a subscription created, changed or
/// deleted, switched off by the delivery worker, the account deleted —
/// calls [`App::webhooks_changed`] after its commit.
#[derive(Clone)]
pub struct KnownSubscriptions(Kept<AccountId, Subscriptions>);

impl KnownSubscriptions {
    pub fn new(bus: &crate::bus::Bus, db: &leadteam_store::Db) -> Self {
        KnownSubscriptions(Kept::new(bus, db, SUBSCRIPTIONS_MAX, |e| match e {
            BusEvent::WebhooksChanged { account } => Forget::One(*account),
            _ => Forget::Nothing,
        }))
    }

    /// The subscriptions of `account`, from memory or else read with `conn`
    /// (which must not hold uncommitted changes to them).
    async fn get(&self, conn: &mut Conn, account: AccountId) -> Result<Subscriptions, AppError> {
        let miss = match self.0.get(&account) {
            Ok(s) => return Ok(s),
            Err(miss) => miss,
        };
        let subs = Arc::new(webhooks::subscribers(conn, account).await?);
        self.0.keep(account, subs.clone(), miss);
        Ok(subs)
    }
}

impl App {
    /// After committing a change to the webhook subscriptions of `account`
    /// (or deleting it): this node forgets them now, the others when the
    /// bus tells them.
    pub(crate) fn webhooks_changed(&self, account: AccountId) {
        self.subscriptions.0.forget(Some(account));
        self.bus.publish(BusEvent::WebhooksChanged { account });
    }
}

/// The subscriptions an intake transaction's leads go out to as events
/// (I8): `lead.created` for each, `lead.assigned` for those routed to a
/// member. Known before the writes, so that the events' ids are drawn with
/// the batch's other ids and the events written in its one [`Script`].
///
/// [`Script`]: leadteam_store::Script
pub(crate) struct LeadEvents {
    subs: std::collections::HashMap<AccountId, Subscriptions>,
}

impl LeadEvents {
    /// The enabled subscriptions of `accounts`.
    pub(crate) async fn read(
        app: &App,
        tx: &mut Conn,
        accounts: &[AccountId],
    ) -> Result<LeadEvents, AppError> {
        let mut subs = std::collections::HashMap::new();
        for &account in accounts {
            if let std::collections::hash_map::Entry::Vacant(slot) = subs.entry(account) {
                slot.insert(app.subscriptions.get(tx, account).await?);
            }
        }
        Ok(LeadEvents { subs })
    }

    fn kinds(assigned: bool) -> &'static [&'static str] {
        if assigned {
            &["lead.created", "lead.assigned"]
        } else {
            &["lead.created"]
        }
    }

    /// The events (with a subscription to go to) of a lead of `account`.
    fn targets(&self, account: AccountId, assigned: bool) -> Vec<(&'static str, Vec<i64>)> {
        let Some(subs) = self.subs.get(&account) else {
            return Vec::new();
        };
        LeadEvents::kinds(assigned)
            .iter()
            .map(|kind| (*kind, webhooks::targets_of(subs, kind)))
            .filter(|(_, targets)| !targets.is_empty())
            .collect()
    }

    /// How many events leads of these (account, assigned) make: the ids to
    /// draw for [`Self::add`].
    pub(crate) fn count(&self, leads: impl IntoIterator<Item = (AccountId, bool)>) -> usize {
        leads
            .into_iter()
            .map(|(account, assigned)| self.targets(account, assigned).len())
            .sum()
    }

    /// Adds the events of `leads` (account, data, assigned) to `script`,
    /// with `ids` drawn for [`Self::count`] of them; answers whether any
    /// event is written (call [`App::events_queued`] after the commit).
    pub(crate) fn add(
        &self,
        script: &mut leadteam_store::Script,
        leads: &[(AccountId, Value, bool)],
        ids: &[i64],
        now: Timestamp,
    ) -> bool {
        let mut events = Vec::new();
        for (account, data, assigned) in leads {
            for (kind, targets) in self.targets(*account, *assigned) {
                events.push(webhooks::NewEvent {
                    account: *account,
                    kind,
                    payload: data.to_string(),
                    targets,
                });
            }
        }
        webhooks::add_events(script, &events, ids, now) > 0
    }
}

/// A subscription with its signing secret, shown once.
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub webhook: WebhookRow,
    pub secret: String,
}

fn parse_events(events: &[String], errs: &mut ValidationErrors) -> Vec<String> {
    if events.is_empty() {
        errs.push(FieldError::new("events", "name at least one event"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if !is_event(e) {
            errs.push(FieldError::new(
                format!("events[{i}]"),
                format!("is not an event; events are {}", EVENTS.join(", ")),
            ));
        } else if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<WebhookRow>, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    Ok(webhooks::list(&mut c, actor.account).await?)
}

pub async fn get(app: &App, caller: &Caller, id: i64) -> Result<WebhookRow, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    webhooks::get(&mut c, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))
}

pub async fn create(
    app: &App,
    caller: &Caller,
    url: &str,
    events: &[String],
) -> Result<WithSecret, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let mut errs = ValidationErrors::default();
    let events = parse_events(events, &mut errs);
    let url = match check_url(app, url).await {
        Ok(u) => Some(u),
        Err(e) => {
            errs.push(FieldError::new("url", e));
            None
        }
    };
    errs.into_result()?;
    let url = url.ok_or_else(|| AppError::Internal("validation inconsistency".into()))?;
    let secret = format!("whsec_{}", random_token());
    let now = app.now();
    let mut tx = app.db.write().await?;
    let id = webhooks::insert(
        &mut tx,
        actor.account,
        actor.member,
        &url,
        &events,
        &secret,
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "webhook.created",
        "webhook",
        id,
        None,
        Some(json!({"url": url, "events": events})),
        now,
    )
    .await?;
    let webhook = webhooks::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    tx.commit().await?;
    app.webhooks_changed(actor.account);
    Ok(WithSecret { webhook, secret })
}

/// What a change sets; `None` keeps a part as it is.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub rotate_secret: bool,
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: i64,
    ch: Change,
) -> Result<(WebhookRow, Option<String>), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let mut errs = ValidationErrors::default();
    let events = ch.events.as_ref().map(|e| parse_events(e, &mut errs));
    let url = match &ch.url {
        Some(u) => match check_url(app, u).await {
            Ok(u) => Some(u),
            Err(e) => {
                errs.push(FieldError::new("url", e));
                None
            }
        },
        None => None,
    };
    errs.into_result()?;
    let secret = ch
        .rotate_secret
        .then(|| format!("whsec_{}", random_token()));
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = webhooks::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    webhooks::update(
        &mut tx,
        id,
        url.as_deref(),
        events.as_deref(),
        ch.enabled,
        secret.as_deref(),
        now,
    )
    .await?;
    let after = webhooks::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    crate::trail::record(
        &mut tx,
        &actor,
        "webhook.updated",
        "webhook",
        id,
        Some(json!({"url": before.url, "events": before.events, "enabled": before.enabled})),
        Some(json!({"url": after.url, "events": after.events, "enabled": after.enabled, "secret_rotated": secret.is_some()})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.webhooks_changed(actor.account);
    app.events_queued();
    Ok((after, secret))
}

pub async fn delete(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = webhooks::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    webhooks::delete(&mut tx, id).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "webhook.deleted",
        "webhook",
        id,
        Some(json!({"url": before.url, "events": before.events})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.webhooks_changed(actor.account);
    Ok(())
}

/// The latest deliveries of a subscription, newest first.
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    id: i64,
    limit: i64,
) -> Result<Vec<WebhookDeliveryRow>, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    webhooks::get(&mut c, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    Ok(webhooks::deliveries(&mut c, id, limit).await?)
}
