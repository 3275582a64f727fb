//! Use cases: each ties a domain decision to the store, the outbox and the
//! clock, in one transaction. The web layer (API and UI) calls these and
//! nothing else.

pub mod account;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod availability;
pub mod backlog;
pub mod billing;
pub mod bus;
mod callers;
pub mod clients;
mod clock;
pub mod content;
mod error;
mod files;
pub mod groups;
pub mod home;
pub mod import;
pub mod intake;
pub mod integrations;
pub mod invitations;
mod kept;
pub mod me;
pub mod members;
pub mod metrics;
pub mod notifications;
mod password;
pub mod reports;
pub mod roles;
mod router;
pub mod routing_admin;
pub mod secrets;
pub mod security;
pub mod signup;
pub mod teams;
pub mod timers;
mod trail;
pub mod webhooks;
pub mod workers;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, AuthFailure, Fault};
pub use password::PasswordHasher;

use leadteam_store::Db;
use std::sync::Arc;

/// Settings of the use cases; every field has a production default.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Public base URL, used in links sent by email.
    pub base_url: String,
    /// How long a session lives without use.
    pub session_idle_ms: i64,
    /// Sign-in throttling (see `auth::signin`).
    pub signin: SigninPolicy,
    /// How long an invitation link works.
    pub invite_ttl_ms: i64,
    /// Where uploaded files live (`<data_dir>/content/<account>/<id>`).
    pub data_dir: std::path::PathBuf,
    /// Where mail goes when no mail server is configured (shown after a
    /// sign-up so a first-time user finds its link); None with SMTP.
    pub mail_note: Option<String>,
    /// Outbound webhooks and the Graph API (I6, I8).
    pub integrations: IntegrationsConfig,
    /// How often the routing worker checks first-contact deadlines (A10)
    /// and the backlog when nothing wakes it (ms).
    pub routing_poll_ms: u64,
    /// Read every caller this node kept again and compare (on by default in
    /// debug builds, so the whole test suite proves that every change to a
    /// caller is forgotten): a difference nothing forgot is a panic.
    pub check_kept_callers: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            base_url: "http://127.0.0.1:8080".into(),
            session_idle_ms: 14 * 86_400_000,
            signin: SigninPolicy::default(),
            invite_ttl_ms: 7 * 86_400_000,
            data_dir: std::path::PathBuf::from("./leadteam-data"),
            mail_note: None,
            integrations: IntegrationsConfig::default(),
            routing_poll_ms: 2_000,
            check_kept_callers: cfg!(debug_assertions),
        }
    }
}

/// How outbound webhooks are delivered and Facebook leads completed.
#[derive(Debug, Clone)]
pub struct IntegrationsConfig {
    /// Networks webhooks may reach although they are not public (an
    /// intranet); empty by default.
    pub webhook_allow_networks: Vec<leadteam_domain::net::Network>,
    /// The Graph API's base URL (with its version).
    pub graph_base_url: String,
    /// How often the workers look for due work when nobody wakes them.
    pub poll_ms: u64,
    /// After attempt `n` fails, the next is `retry_first_ms * 2^(n-1)` later
    /// (at most `retry_max_ms`); after `max_attempts` the worker gives up.
    pub retry_first_ms: i64,
    pub retry_max_ms: i64,
    pub max_attempts: i64,
    /// A subscription whose deliveries were given up this many times in a
    /// row is switched off and its admin alerted.
    pub failures_to_disable: i64,
    /// One delivery or Graph call may take this long.
    pub request_timeout_ms: u64,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        IntegrationsConfig {
            webhook_allow_networks: Vec::new(),
            graph_base_url: "https://graph.facebook.com/v21.0".into(),
            poll_ms: 1_000,
            retry_first_ms: 30_000,
            retry_max_ms: 6 * 3_600_000,
            max_attempts: 8,
            failures_to_disable: 3,
            request_timeout_ms: 10_000,
        }
    }
}

impl IntegrationsConfig {
    /// When to try again after attempt `attempts` failed at `now`; `None` to give up.
    pub fn retry_at(
        &self,
        attempts: i64,
        now: leadteam_domain::Timestamp,
    ) -> Option<leadteam_domain::Timestamp> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        let delay = self
            .retry_first_ms
            .max(1)
            .saturating_mul(2_i64.saturating_pow(exp))
            .min(self.retry_max_ms.max(1));
        Some(now.plus_millis(delay))
    }
}

/// Failed sign-ins are counted per email and per client address over a
/// window; from `slow_after` failures each attempt is delayed (doubling from
/// `base_delay_ms`, at most `max_delay_ms`), and at `lock_after` the email (or
/// `ip_lock_after` the address) is refused for `lock_ms`.
#[derive(Debug, Clone)]
pub struct SigninPolicy {
    pub window_ms: i64,
    pub slow_after: i64,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    pub lock_after: i64,
    pub ip_lock_after: i64,
    pub lock_ms: i64,
}

impl Default for SigninPolicy {
    fn default() -> Self {
        SigninPolicy {
            window_ms: 15 * 60_000,
            slow_after: 3,
            base_delay_ms: 250,
            max_delay_ms: 4_000,
            lock_after: 10,
            ip_lock_after: 100,
            lock_ms: 15 * 60_000,
        }
    }
}

/// The application: the database, the clock, the password hasher and settings.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<AppConfig>,
    pub hasher: PasswordHasher,
    /// Wakes the mail worker (set by the server and the testkit): call
    /// [`App::mail_queued`] after committing a transaction that queued mail.
    pub mail_waker: Option<Arc<tokio::sync::Notify>>,
    /// Live events of this process (notifications, access changes).
    pub bus: bus::Bus,
    /// The writers that store incoming leads in batches.
    pub intake: intake::IntakeQueue,
    /// Claims in flight, one turn per client.
    pub claims: clients::ClaimFlights,
    /// What the use cases count (leads, routing, claims, speed).
    pub metrics: Arc<metrics::Sink>,
    /// Wakes the integration workers (outbound events, Graph fetches).
    pub events_waker: Arc<tokio::sync::Notify>,
    /// Accounts where someone may have freed up (A11).
    pub routing: timers::RoutingSignals,
    /// Lead sources looked up by this node, kept exact by the bus.
    pub sources: intake::KnownSources,
    /// Accounts' routing settings read by this node, kept exact by the bus.
    pub(crate) routing_settings: router::KnownSettings,
    /// Accounts' outbound webhook subscriptions read by this node, kept
    /// exact by the bus.
    pub(crate) subscriptions: webhooks::KnownSubscriptions,
    /// The callers of sessions and API keys this node resolved, kept exact
    /// by the bus.
    pub(crate) callers: callers::KnownCallers,
}

impl App {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: AppConfig) -> Self {
        let bus = bus::Bus::default();
        App {
            sources: intake::KnownSources::new(&bus, &db),
            routing_settings: router::KnownSettings::new(&bus, &db),
            subscriptions: webhooks::KnownSubscriptions::new(&bus, &db),
            callers: callers::KnownCallers::new(&bus, &db),
            db,
            clock,
            config: Arc::new(config),
            hasher: PasswordHasher::default(),
            mail_waker: None,
            bus,
            intake: intake::IntakeQueue::default(),
            claims: clients::ClaimFlights::default(),
            metrics: Arc::new(metrics::Sink::default()),
            events_waker: Arc::new(tokio::sync::Notify::new()),
            routing: timers::RoutingSignals::default(),
        }
    }

    /// Tells the integration workers that events or fetches were queued
    /// (after the commit), so they go out now rather than at the next poll.
    pub fn events_queued(&self) {
        self.events_waker.notify_one();
    }

    /// Tells the mail worker that a message was queued (after the commit), so
    /// it goes out now rather than at the next poll.
    pub fn mail_queued(&self) {
        if let Some(w) = &self.mail_waker {
            w.notify_one();
        }
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.db.ping().await?)
    }

    pub fn now(&self) -> leadteam_domain::Timestamp {
        self.clock.now()
    }
}
