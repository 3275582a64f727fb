//! Routing inside a write transaction (A1-A14): the facts of the accounts
//! concerned are read once (rules, round-robin states, candidates with their
//! availability, teams, holidays), each decision is made by the pure domain
//! function and counted at once (an assignment takes a place of capacity
//! and moves the round robin), and the states are written back before the
//! transaction commits. Intake, routed imports, reclaims and the backlog
//! drain all route through this one engine.

use crate::bus::BusEvent;
use crate::error::AppError;
use crate::kept::{Forget, Kept};
use leadteam_domain::availability::{self, DayRange, Facts as AvailabilityFacts, Schedule};
use leadteam_domain::routing::{
    ActionKind, ActionRef, Candidate, ContactLimit, Context, Decision, DefaultRule, LeadFacts,
    RrState, Rule, RuleRef, decide_assignment, match_rule,
};
use leadteam_domain::{AccountId, MemberId, TeamId, Timestamp};
use leadteam_store::rules::{self, CandidateRow};
use leadteam_store::{Conn, Lock, Script};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The round-robin counter key of a rule.
pub(crate) fn counter_key(account: AccountId, rule: RuleRef) -> String {
    match rule {
        RuleRef::Default => rules::default_key(account),
        RuleRef::Advanced(id) => rules::rule_key(id),
        RuleRef::Team(t) => rules::team_key(t),
    }
}

/// One decision with what follows from it.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    pub decision: Decision,
    /// The rule's first-contact limit (A10), when the lead was assigned by
    /// a rule that has one, with the deadline in the assignee's hours.
    pub deadline: Option<(ContactLimit, Timestamp)>,
}

impl Routed {
    pub fn assignee(&self) -> Option<MemberId> {
        self.decision.assignee()
    }
}

/// An account's routing settings (A3, A8, A10): what every decision reads
/// of the account before it looks at anyone, kept in memory by
/// [`KnownSettings`].
pub(crate) struct Settings {
    rules: Vec<Rule>,
    default: DefaultRule,
    default_contact: Option<ContactLimit>,
    holidays: Vec<(jiff::civil::Date, String)>,
}

impl Settings {
    async fn read(conn: &mut Conn, account: AccountId) -> Result<Settings, AppError> {
        let rules = rules::list(conn, account).await?;
        let holidays = holidays_of(conn, account).await?;
        let (default, default_contact) = rules::default_with_contact(conn, account).await?;
        Ok(Settings {
            rules,
            default,
            default_contact,
            holidays,
        })
    }
}

/// Accounts' settings kept at most (beyond, the cache starts again empty).
const SETTINGS_MAX: usize = 10_000;

/// The routing settings this node has read (issue 19: three reads per
/// batch), exact by the bus (see [`crate::kept`]): every use case that
/// changes an account's rules, default rule or holidays calls
/// [`App::routing_settings_changed`] after its commit.
#[derive(Clone)]
pub struct KnownSettings(Kept<AccountId, Arc<Settings>>);

impl KnownSettings {
    pub fn new(bus: &crate::bus::Bus, db: &leadteam_store::Db) -> Self {
        KnownSettings(Kept::new(bus, db, SETTINGS_MAX, |e| match e {
            BusEvent::RoutingSettingsChanged { account } => Forget::One(*account),
            _ => Forget::Nothing,
        }))
    }

    /// The settings of `account`, from memory or else read with `conn`
    /// (which must not hold uncommitted changes to them).
    async fn get(&self, conn: &mut Conn, account: AccountId) -> Result<Arc<Settings>, AppError> {
        let miss = match self.0.get(&account) {
            Ok(s) => return Ok(s),
            Err(miss) => miss,
        };
        let settings = Arc::new(Settings::read(conn, account).await?);
        self.0.keep(account, settings.clone(), miss);
        Ok(settings)
    }
}

impl crate::App {
    /// After committing a change to the routing settings of `account` (a
    /// rule, the default rule, a holiday; the account deleted): this node
    /// forgets them now, the others when the bus tells them, and the
    /// backlog is tried again (A11).
    pub(crate) fn routing_settings_changed(&self, account: AccountId) {
        self.routing_settings.0.forget(Some(account));
        self.bus
            .publish(BusEvent::RoutingSettingsChanged { account });
        self.routing_changed(account);
    }
}

/// What is known of one account.
struct AccountFacts {
    settings: Arc<Settings>,
    teams: HashMap<TeamId, Vec<MemberId>>,
    rows: HashMap<MemberId, CandidateRow>,
    /// Each loaded member's schedule and time off, parsed once per batch.
    parsed: HashMap<MemberId, Parsed>,
    candidates: HashMap<MemberId, Candidate>,
}

/// The routing facts of one transaction.
pub(crate) struct Router {
    now: Timestamp,
    accounts: HashMap<AccountId, AccountFacts>,
    states: HashMap<String, RrState>,
}

/// A member's availability facts (A8), parsed from what store read.
struct Parsed {
    schedule: Option<Schedule>,
    zone: jiff::tz::TimeZone,
    time_off: Vec<DayRange>,
}

fn parse_row(row: &CandidateRow) -> Parsed {
    let schedule: Option<Schedule> = row
        .schedule_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let zone = schedule
        .as_ref()
        .and_then(|s| jiff::tz::TimeZone::get(&s.zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let time_off = row
        .time_off
        .iter()
        .filter_map(|(a, b)| {
            Some(DayRange {
                from: a.parse().ok()?,
                to: b.parse().ok()?,
            })
        })
        .collect();
    Parsed {
        schedule,
        zone,
        time_off,
    }
}

/// The availability facts of a member with the account's holidays.
fn facts_of<'a>(
    row: &'a CandidateRow,
    p: &'a Parsed,
    holidays: &'a [(jiff::civil::Date, String)],
) -> AvailabilityFacts<'a> {
    AvailabilityFacts {
        schedule: p.schedule.as_ref(),
        zone: &p.zone,
        time_off: &p.time_off,
        holidays,
        away: row.away,
        licence: row.on_duty,
    }
}

impl AccountFacts {
    fn facts<'a>(&'a self, row: &'a CandidateRow, p: &'a Parsed) -> AvailabilityFacts<'a> {
        facts_of(row, p, &self.settings.holidays)
    }

    fn action(&self, rule: RuleRef) -> ActionRef<'_> {
        match rule {
            RuleRef::Default => ActionRef::of_default(&self.settings.default),
            RuleRef::Team(t) => ActionRef::of_team(t),
            RuleRef::Advanced(id) => self.settings.rules.iter().find(|r| r.id == id).map_or(
                ActionRef::of_default(&self.settings.default),
                ActionRef::of_rule,
            ),
        }
    }

    fn contact(&self, rule: RuleRef) -> Option<ContactLimit> {
        match rule {
            RuleRef::Default => self.settings.default_contact,
            RuleRef::Team(_) => None,
            RuleRef::Advanced(id) => self
                .settings
                .rules
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.contact),
        }
    }

    /// The members an action may give a lead to.
    fn members_of(&self, kind: &ActionKind<'_>) -> Vec<MemberId> {
        match kind {
            ActionKind::Unassigned => Vec::new(),
            ActionKind::Member(m) => vec![*m],
            ActionKind::RoundRobin(entries) => entries
                .iter()
                .filter(|e| e.enabled)
                .map(|e| e.member)
                .collect(),
            ActionKind::Team(t) => self.teams.get(t).cloned().unwrap_or_default(),
        }
    }
}

impl Router {
    /// The settings of `accounts` (kept by `known`, else read with `conn`)
    /// and the teams of those whose rules name one.
    pub async fn prepare(
        known: &KnownSettings,
        conn: &mut Conn,
        accounts: impl IntoIterator<Item = AccountId>,
        now: Timestamp,
    ) -> Result<Router, AppError> {
        let mut map = HashMap::new();
        let set: BTreeSet<AccountId> = accounts.into_iter().collect();
        for account in set {
            let settings = known.get(conn, account).await?;
            let needs_teams = settings
                .rules
                .iter()
                .any(|r| matches!(r.action, leadteam_domain::routing::RuleAction::Team(_)));
            let teams = if needs_teams {
                rules::team_members(conn, account).await?
            } else {
                HashMap::new()
            };
            map.insert(
                account,
                AccountFacts {
                    settings,
                    teams,
                    rows: HashMap::new(),
                    parsed: HashMap::new(),
                    candidates: HashMap::new(),
                },
            );
        }
        Ok(Router {
            now,
            accounts: map,
            states: HashMap::new(),
        })
    }

    /// The rule that decides `lead` in `account` (A3).
    pub fn rule_for(&self, account: AccountId, lead: &LeadFacts) -> RuleRef {
        match self.accounts.get(&account) {
            Some(f) => match_rule(&f.settings.rules, &f.settings.default, lead).0,
            None => RuleRef::Default,
        }
    }

    /// Locks and reads the candidates and the round-robin states that the
    /// decisions by `needs` will look at (members first, in id order, then
    /// counters, in key order: concurrent transactions never wait on each
    /// other in a cycle).
    pub async fn load(
        &mut self,
        conn: &mut Conn,
        needs: &[(AccountId, RuleRef)],
    ) -> Result<(), AppError> {
        // Teams are read with the rules when a rule names one; a delivery
        // to a team's round robin reads them here.
        for (account, rule) in needs {
            if let (RuleRef::Team(_), Some(f)) = (rule, self.accounts.get_mut(account))
                && f.teams.is_empty()
            {
                f.teams = rules::team_members(conn, *account).await?;
            }
        }
        let mut keys: Vec<String> = Vec::new();
        let mut members: HashMap<AccountId, Vec<MemberId>> = HashMap::new();
        for (account, rule) in needs {
            let Some(f) = self.accounts.get(account) else {
                continue;
            };
            let action = f.action(*rule);
            if action.uses_position() {
                let key = counter_key(*account, *rule);
                if !self.states.contains_key(&key) && !keys.contains(&key) {
                    keys.push(key);
                }
            }
            let list = members.entry(*account).or_default();
            for m in f.members_of(&action.kind) {
                if !list.contains(&m) && !f.rows.contains_key(&m) {
                    list.push(m);
                }
            }
        }
        let mut accounts: Vec<AccountId> = members.keys().copied().collect();
        accounts.sort();
        for account in accounts {
            let list = &members[&account];
            if list.is_empty() {
                continue;
            }
            let rows = rules::candidates(conn, account, list, Lock::ForUpdate).await?;
            let Some(f) = self.accounts.get_mut(&account) else {
                continue;
            };
            for (id, row) in rows {
                let p = parse_row(&row);
                let availability = availability::status(&f.facts(&row, &p), self.now);
                f.parsed.insert(id, p);
                f.candidates.insert(
                    id,
                    Candidate {
                        member: id,
                        status: row.status,
                        agent: row.agent,
                        open_clients: row.open_clients,
                        capacity: row.capacity,
                        availability,
                    },
                );
                f.rows.insert(id, row);
            }
        }
        // The counters last: every writer of a rule waits on its counter
        // from here to its commit (issue 19).
        if !keys.is_empty() {
            let found = rules::load_states(conn, &keys).await?;
            self.states.extend(found);
        }
        Ok(())
    }

    /// Decides one lead by `rule` (loaded with [`Router::load`]), passing
    /// over `exclude`; counts the assignment at once.
    pub fn decide(&mut self, account: AccountId, rule: RuleRef, exclude: &[MemberId]) -> Routed {
        let key = counter_key(account, rule);
        let Some(f) = self.accounts.get_mut(&account) else {
            return Routed {
                decision: Decision {
                    rule,
                    outcome: leadteam_domain::routing::Outcome::Unassigned,
                    reason: "unassigned: the account's rules are not loaded".into(),
                    considered: Vec::new(),
                    position: None,
                    nobody_could: false,
                },
                deadline: None,
            };
        };
        let mut state = self.states.remove(&key).unwrap_or_default();
        let decision = {
            let f: &AccountFacts = f;
            let cands = |m: MemberId| f.candidates.get(&m).cloned();
            let team = |t: TeamId| f.teams.get(&t).cloned().unwrap_or_default();
            let cx = Context {
                candidates: &cands,
                team: &team,
                exclude,
            };
            decide_assignment(f.action(rule), &cx, &mut state)
        };
        if f.action(rule).uses_position() {
            self.states.insert(key, state);
        }
        let mut deadline = None;
        if let Some(m) = decision.assignee() {
            // The place it takes counts for the next lead (A4).
            if let Some(c) = f.candidates.get_mut(&m) {
                c.open_clients = c.open_clients.saturating_add(1);
            }
            if let (Some(limit), Some(row), Some(p)) =
                (f.contact(rule), f.rows.get(&m), f.parsed.get(&m))
            {
                let due =
                    availability::after_working_minutes(&f.facts(row, p), self.now, limit.minutes)
                        .unwrap_or(Timestamp(self.now.0 + i64::from(limit.minutes) * 60_000));
                deadline = Some((limit, due));
            }
        }
        Routed { decision, deadline }
    }

    /// The soonest instant a member of `account` that was loaded and is now
    /// unavailable for its hours, time off or a holiday becomes available
    /// again (A11: the backlog is tried again then).
    pub fn next_available(&self, account: AccountId) -> Option<Timestamp> {
        use leadteam_domain::availability::Unavailable;
        let f = self.accounts.get(&account)?;
        f.candidates
            .values()
            .filter_map(|c| match &c.availability {
                Err(Unavailable::OutsideHours { back_at, .. }) => back_at.map(Timestamp),
                Err(Unavailable::TimeOff { .. } | Unavailable::Holiday { .. }) => {
                    let row = f.rows.get(&c.member)?;
                    let p = f.parsed.get(&c.member)?;
                    availability::next_working_instant(&f.facts(row, p), self.now)
                }
                _ => None,
            })
            .min()
    }

    /// Writes the round-robin states back.
    pub async fn finish(self, conn: &mut Conn) -> Result<(), AppError> {
        rules::save_states(conn, &self.states).await?;
        Ok(())
    }

    /// [`Self::finish`] as part of the caller's [`Script`] (written with
    /// the rest of its writes, in one round trip).
    pub fn finish_into(self, script: &mut Script) -> Result<(), AppError> {
        rules::add_states(script, &self.states)?;
        Ok(())
    }
}

/// Whether one member of `account` is available at `now`, and if not, when
/// it next is (A8): the same facts and the same pure function as routing.
pub(crate) async fn availability_of(
    conn: &mut Conn,
    account: AccountId,
    member: MemberId,
    now: Timestamp,
) -> Result<(Result<(), availability::Unavailable>, Option<Timestamp>), AppError> {
    let rows = rules::candidates(conn, account, &[member], Lock::None).await?;
    let Some(row) = rows.get(&member) else {
        return Err(AppError::NotFound("member"));
    };
    let holidays = holidays_of(conn, account).await?;
    let p = parse_row(row);
    let facts = facts_of(row, &p, &holidays);
    let status = availability::status(&facts, now);
    let next = match &status {
        Ok(()) | Err(availability::Unavailable::Away | availability::Unavailable::NoLicence) => {
            None
        }
        Err(_) => availability::next_working_instant(&facts, now),
    };
    Ok((status, next))
}

/// A member's availability now with its load, from one batched read.
#[derive(Debug, Clone)]
pub(crate) struct MemberNow {
    pub status: Result<(), availability::Unavailable>,
    pub next: Option<Timestamp>,
    pub capacity: Option<u32>,
    /// Its open clients (counted when it has a capacity).
    pub open_clients: u32,
}

/// [`availability_of`] for many members at once (D2: who is available
/// now, capacity in use): three reads whatever their number.
pub(crate) async fn availability_of_many(
    conn: &mut Conn,
    account: AccountId,
    members: &[MemberId],
    now: Timestamp,
) -> Result<HashMap<MemberId, MemberNow>, AppError> {
    let rows = rules::candidates(conn, account, members, Lock::None).await?;
    let holidays = holidays_of(conn, account).await?;
    Ok(rows
        .iter()
        .map(|(id, row)| {
            let p = parse_row(row);
            let facts = facts_of(row, &p, &holidays);
            let status = availability::status(&facts, now);
            let next = match &status {
                Ok(())
                | Err(availability::Unavailable::Away | availability::Unavailable::NoLicence) => {
                    None
                }
                Err(_) => availability::next_working_instant(&facts, now),
            };
            (
                *id,
                MemberNow {
                    status,
                    next,
                    capacity: row.capacity,
                    open_clients: row.open_clients,
                },
            )
        })
        .collect())
}

/// The account's holidays as dates.
async fn holidays_of(
    conn: &mut Conn,
    account: AccountId,
) -> Result<Vec<(jiff::civil::Date, String)>, AppError> {
    Ok(rules::holidays(conn, account)
        .await?
        .into_iter()
        .filter_map(|(d, n)| Some((d.parse().ok()?, n)))
        .collect())
}
