//! What the product exists for, counted as it happens: leads received,
//! routing decisions, claims, time to assignment and to first contact. The
//! use cases move this sink; the web layer shows it on `/metrics` beside
//! the figures read from the database at scrape time ([`gauges`]).

use crate::App;
use crate::error::AppError;
use leadteam_domain::{MemberId, Timestamp};
use leadteam_store::Conn;
use leadteam_store::clients::ClientRow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

pub use leadteam_store::stats::Gauges;

/// Upper bounds (seconds) of the buckets of the time histograms: a second
/// to a day.
pub const TIME_BUCKETS_S: [f64; 14] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0,
    86400.0,
];

/// A histogram of durations.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; TIME_BUCKETS_S.len() + 1],
    sum_ms: AtomicU64,
    count: AtomicU64,
}

/// A histogram as read: cumulative counts per bucket of [`TIME_BUCKETS_S`]
/// (then +Inf), the sum in seconds and the count.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe_ms(&self, ms: i64) {
        let ms = u64::try_from(ms).unwrap_or(0);
        let s = ms as f64 / 1000.0;
        let i = TIME_BUCKETS_S
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(TIME_BUCKETS_S.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            sum_seconds: self.sum_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// What became of a delivered lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeadOutcome {
    Accepted,
    Duplicate,
    Refused,
}

impl LeadOutcome {
    pub fn label(self) -> &'static str {
        match self {
            LeadOutcome::Accepted => "accepted",
            LeadOutcome::Duplicate => "duplicate",
            LeadOutcome::Refused => "refused",
        }
    }
}

/// The counters of this process.
#[derive(Default)]
pub struct Sink {
    leads: Mutex<BTreeMap<(String, LeadOutcome), u64>>,
    routed: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    claims_won: AtomicU64,
    claims_lost: AtomicU64,
    pub to_assignment: Histogram,
    pub to_first_contact: Histogram,
}

/// The counters as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// (source kind, outcome, count).
    pub leads: Vec<(String, &'static str, u64)>,
    /// (outcome, reason, count): `assigned` with reason `""`, or
    /// `unassigned` with its [`unassigned_reason`].
    pub routed: Vec<(&'static str, &'static str, u64)>,
    pub claims_won: u64,
    pub claims_lost: u64,
    pub to_assignment: HistogramSnapshot,
    pub to_first_contact: HistogramSnapshot,
}

/// The reason label of an unassigned routing decision, from its reason in
/// words (`leadteam_domain::routing::decide_assignment`).
pub fn unassigned_reason(reason: &str) -> &'static str {
    if reason.contains("rule says leave unassigned") {
        "rule"
    } else if reason.contains("no enabled members") {
        "no_members"
    } else if reason.contains("at capacity") && !reason.contains("no eligible candidate") {
        "at_capacity"
    } else if reason.contains("without an agent licence")
        && !reason.contains("no eligible candidate")
    {
        "off_duty"
    } else if (reason.contains("away")
        || reason.contains("outside working hours")
        || reason.contains("time off")
        || reason.contains("holiday"))
        && !reason.contains("no eligible candidate")
    {
        "unavailable"
    } else {
        "no_eligible_member"
    }
}

impl Sink {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A lead delivered by a source of `kind`.
    pub fn lead(&self, kind: &str, outcome: LeadOutcome) {
        *Self::lock(&self.leads)
            .entry((kind.to_owned(), outcome))
            .or_insert(0) += 1;
    }

    /// An automatic routing decision.
    pub fn routed(&self, assigned: bool, reason: &str) {
        let key = if assigned {
            ("assigned", "")
        } else {
            ("unassigned", unassigned_reason(reason))
        };
        *Self::lock(&self.routed).entry(key).or_insert(0) += 1;
    }

    pub fn claim(&self, won: bool) {
        let c = if won {
            &self.claims_won
        } else {
            &self.claims_lost
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A client got its first assignee `now`; it arrived at `created_at`.
    pub fn first_assigned(&self, created_at: Timestamp, now: Timestamp) {
        self.to_assignment.observe_ms(now.0 - created_at.0);
    }

    /// The assignee contacted its client for the first time `now`, being
    /// its assignee since `assigned_at` (see [`first_contact`]).
    pub fn first_contact(&self, assigned_at: Option<Timestamp>, now: Timestamp) {
        if let Some(at) = assigned_at {
            self.to_first_contact.observe_ms(now.0 - at.0);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            leads: Self::lock(&self.leads)
                .iter()
                .map(|((k, o), n)| (k.clone(), o.label(), *n))
                .collect(),
            routed: Self::lock(&self.routed)
                .iter()
                .map(|((o, r), n)| (*o, *r, *n))
                .collect(),
            claims_won: self.claims_won.load(Ordering::Relaxed),
            claims_lost: self.claims_lost.load(Ordering::Relaxed),
            to_assignment: self.to_assignment.snapshot(),
            to_first_contact: self.to_first_contact.snapshot(),
        }
    }
}

/// Inside the transaction of a contact by `member` (a note, a message, an
/// update, a delivery): records it (A10, D2) and, when it is the first by
/// the client's assignee since the client came to it, gives the time it
/// came, for [`Sink::first_contact`] after the commit.
pub(crate) async fn first_contact(
    conn: &mut Conn,
    client: &ClientRow,
    member: MemberId,
    now: Timestamp,
) -> Result<Option<Timestamp>, AppError> {
    Ok(leadteam_store::clients::record_contact(conn, client.id, member, now).await?)
}

/// Figures read from the database at scrape time, with indexed queries.
pub async fn gauges(app: &App) -> Result<Gauges, AppError> {
    let mut c = app.db.conn().await?;
    Ok(leadteam_store::stats::gauges(&mut c, app.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadteam_domain::routing::{
        ActionKind, ActionRef, Context, RrState, RuleRef, decide_assignment,
    };

    #[test]
    fn histograms_count_each_duration_in_its_bucket() {
        let h = Histogram::default();
        h.observe_ms(0);
        h.observe_ms(4_000);
        h.observe_ms(90_000_000);
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative[0], 1, "0 s is within 1 s");
        assert_eq!(s.cumulative[1], 2, "4 s is within 5 s");
        assert_eq!(s.cumulative[TIME_BUCKETS_S.len() - 1], 2);
        assert_eq!(s.cumulative[TIME_BUCKETS_S.len()], 3, "+Inf holds all");
        assert!((s.sum_seconds - 90_004.0).abs() < 1e-9);
    }

    #[test]
    fn unassigned_reasons_are_read_from_the_decisions_words() {
        let none = |_| None;
        let cx = Context {
            candidates: &none,
            team: &|_| Vec::new(),
            exclude: &[],
        };
        let d = decide_assignment(
            ActionRef {
                rule: RuleRef::Default,
                kind: ActionKind::Unassigned,
            },
            &cx,
            &mut RrState::default(),
        );
        assert_eq!(unassigned_reason(&d.reason), "rule");
        let d = decide_assignment(
            ActionRef {
                rule: RuleRef::Default,
                kind: ActionKind::RoundRobin(&[]),
            },
            &cx,
            &mut RrState::default(),
        );
        assert_eq!(unassigned_reason(&d.reason), "no_members");
        assert_eq!(
            unassigned_reason("unassigned: all 3 candidates at capacity"),
            "at_capacity"
        );
        assert_eq!(
            unassigned_reason("unassigned: the only candidate is at capacity"),
            "at_capacity"
        );
        assert_eq!(
            unassigned_reason("unassigned: no eligible candidate (2 at capacity, 1 deactivated)"),
            "no_eligible_member"
        );
        assert_eq!(
            unassigned_reason("unassigned: the rule's member is deactivated"),
            "no_eligible_member"
        );
    }
}
