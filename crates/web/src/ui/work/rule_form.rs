//! The forms of the lead assignment page: a round robin (members toggled in
//! with their leads per round), an advanced rule's conditions and action, and
//! rules in words. Parsing only turns form fields into the domain's values;
//! every check is the use case's (`Rule::check`, `LeadsPerRound::parse`).

use super::{all_of, one_of};
use leadteam_app::intake::facebook_names::FacebookNames;
use leadteam_app::members::MemberRow;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::routing::{ContactLimit, Criterion, LeadsPerRound, RrEntry, Rule, RuleAction};
use leadteam_domain::{FieldError, MemberId, SourceId, ValidationErrors};

/// One member's line of a round-robin table.
pub(super) struct RrRow {
    pub id: i64,
    pub name: String,
    pub on: bool,
    pub weight: u8,
    /// Why this member may get nothing (shown next to the name).
    pub note: Option<&'static str>,
}

/// The lines of a round-robin table: the members of `entries` in their
/// order, then the other active members (off).
pub(super) fn rr_rows(entries: &[RrEntry], members: &[MemberRow]) -> Vec<RrRow> {
    let note = |m: &MemberRow| match m.status {
        MemberStatus::Active if !m.agent => Some("not an agent: gets no leads"),
        MemberStatus::Active => None,
        MemberStatus::Invited => Some("invite not accepted yet"),
        MemberStatus::Deactivated => Some("deactivated: gets no leads"),
        MemberStatus::Removed => Some("removed from the account: gets no leads"),
    };
    let mut rows: Vec<RrRow> = entries
        .iter()
        .map(|e| {
            let m = members.iter().find(|m| m.id == e.member);
            RrRow {
                id: e.member.0,
                name: m
                    .map(|m| m.name.clone())
                    .unwrap_or_else(|| format!("Member {}", e.member)),
                on: e.enabled,
                weight: e.weight.get(),
                note: m.and_then(note),
            }
        })
        .collect();
    for m in members.iter().filter(|m| m.status == MemberStatus::Active) {
        if !rows.iter().any(|r| r.id == m.id.0) {
            rows.push(RrRow {
                id: m.id.0,
                name: m.name.clone(),
                on: false,
                weight: 1,
                note: note(m),
            });
        }
    }
    rows
}

/// The round robin of a form whose fields start with `prefix`: the members
/// listed in `<prefix>m` (in order), `<prefix>on_<id>` ticked, and
/// `<prefix>w_<id>` leads per round.
pub(super) fn rr_entries(
    pairs: &[(String, String)],
    prefix: &str,
) -> Result<Vec<RrEntry>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let mut out = Vec::new();
    for id in all_of(pairs, &format!("{prefix}m")).filter_map(|v| v.parse::<i64>().ok()) {
        let field = format!("{prefix}w_{id}");
        let w = one_of(pairs, &field)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0);
        if let Some(weight) = errs.take(LeadsPerRound::parse(&field, w)) {
            out.push(RrEntry {
                member: MemberId(id),
                weight,
                enabled: one_of(pairs, &format!("{prefix}on_{id}")).is_some(),
            });
        }
    }
    errs.into_result().map(|()| out)
}

/// Rows of a round-robin table as the form sent them (shown again after an error).
pub(super) fn rr_rows_sent(
    pairs: &[(String, String)],
    prefix: &str,
    members: &[MemberRow],
) -> Vec<RrRow> {
    let entries: Vec<RrEntry> = all_of(pairs, &format!("{prefix}m"))
        .filter_map(|v| v.parse::<i64>().ok())
        .map(|id| RrEntry {
            member: MemberId(id),
            weight: one_of(pairs, &format!("{prefix}w_{id}"))
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(|w| LeadsPerRound::parse("w", w).ok())
                .unwrap_or_default(),
            enabled: one_of(pairs, &format!("{prefix}on_{id}")).is_some(),
        })
        .collect();
    rr_rows(&entries, members)
}

/// A custom-field condition of the form.
#[derive(Default)]
pub(super) struct FieldCond {
    pub field: String,
    /// `equals` or `contains`.
    pub op: String,
    pub value: String,
}

/// What the rule form shows.
#[derive(Default)]
pub(super) struct RuleValues {
    pub name: String,
    pub source: String,
    pub any_facebook: bool,
    pub fb_page: String,
    pub fb_form: String,
    pub conds: [FieldCond; 2],
    /// `unassigned`, `member` or `round_robin`.
    pub action: String,
    pub member_id: String,
    /// The team whose members share the leads (A13).
    pub team_id: String,
    /// First contact within these working minutes ("" for no limit), and
    /// at most this many moves (A10).
    pub contact_minutes: String,
    pub contact_moves: String,
    /// The rule has conditions this form cannot show; saving drops them.
    pub lost: bool,
}

impl RuleValues {
    /// The form of a stored rule.
    pub fn of(r: &Rule) -> (RuleValues, Vec<RrEntry>) {
        let (contact_minutes, contact_moves) = contact_values(r.contact);
        let mut v = RuleValues {
            name: r.name.clone(),
            contact_minutes,
            contact_moves,
            ..RuleValues::default()
        };
        let mut n = 0;
        for c in &r.criteria {
            match c {
                Criterion::Source(s) if v.source.is_empty() => v.source = s.0.to_string(),
                Criterion::AnyFacebook => v.any_facebook = true,
                Criterion::FacebookPage(p) if v.fb_page.is_empty() => v.fb_page = p.clone(),
                Criterion::FacebookForm(f) if v.fb_form.is_empty() => v.fb_form = f.clone(),
                Criterion::FieldEquals { field, value }
                | Criterion::FieldContains { field, value }
                    if n < 2 =>
                {
                    let op = if matches!(c, Criterion::FieldEquals { .. }) {
                        "equals"
                    } else {
                        "contains"
                    };
                    v.conds[n] = FieldCond {
                        field: field.clone(),
                        op: op.to_owned(),
                        value: value.clone(),
                    };
                    n += 1;
                }
                _ => v.lost = true,
            }
        }
        let entries = match &r.action {
            RuleAction::Unassigned => {
                v.action = "unassigned".into();
                Vec::new()
            }
            RuleAction::Member(m) => {
                v.action = "member".into();
                v.member_id = m.0.to_string();
                Vec::new()
            }
            RuleAction::RoundRobin(e) => {
                v.action = "round_robin".into();
                e.clone()
            }
            RuleAction::Team(t) => {
                v.action = "team".into();
                v.team_id = t.0.to_string();
                Vec::new()
            }
        };
        (v, entries)
    }

    /// The form as sent.
    pub fn sent(pairs: &[(String, String)]) -> RuleValues {
        let get = |k: &str| one_of(pairs, k).unwrap_or_default().to_owned();
        let cond = |i: u8| FieldCond {
            field: get(&format!("f{i}_field")),
            op: get(&format!("f{i}_op")),
            value: get(&format!("f{i}_value")),
        };
        RuleValues {
            name: get("name"),
            source: get("source"),
            any_facebook: one_of(pairs, "any_facebook").is_some(),
            fb_page: get("fb_page"),
            fb_form: get("fb_form"),
            conds: [cond(1), cond(2)],
            action: get("action"),
            member_id: get("member_id"),
            team_id: get("team_id"),
            contact_minutes: get("contact_minutes"),
            contact_moves: get("contact_moves"),
            lost: false,
        }
    }

    /// The conditions, and for each the form field its errors belong to.
    pub fn criteria(&self) -> (Vec<Criterion>, Vec<(String, String)>) {
        let mut out = Vec::new();
        let mut renames = Vec::new();
        let mut push = |c: Criterion, field: &str, sub: Option<(&str, &str)>| {
            let i = out.len();
            renames.push((format!("criteria[{i}]"), field.to_owned()));
            if let Some((f, v)) = sub {
                renames.push((format!("criteria[{i}].field"), f.to_owned()));
                renames.push((format!("criteria[{i}].value"), v.to_owned()));
            }
            out.push(c);
        };
        if let Ok(id) = self.source.trim().parse::<i64>() {
            push(Criterion::Source(SourceId(id)), "source", None);
        }
        if self.any_facebook {
            push(Criterion::AnyFacebook, "any_facebook", None);
        }
        if !self.fb_page.trim().is_empty() {
            push(
                Criterion::FacebookPage(self.fb_page.clone()),
                "fb_page",
                None,
            );
        }
        if !self.fb_form.trim().is_empty() {
            push(
                Criterion::FacebookForm(self.fb_form.clone()),
                "fb_form",
                None,
            );
        }
        for (i, c) in self.conds.iter().enumerate() {
            if c.field.trim().is_empty() && c.value.trim().is_empty() {
                continue;
            }
            let (field, value) = (c.field.clone(), c.value.clone());
            let crit = if c.op == "contains" {
                Criterion::FieldContains { field, value }
            } else {
                Criterion::FieldEquals { field, value }
            };
            let n = i + 1;
            let (f, v) = (format!("f{n}_field"), format!("f{n}_value"));
            push(crit, &f, Some((&f, &v)));
        }
        (out, renames)
    }

    /// The action; a missing choice is an error of the field `action`.
    pub fn action(&self, pairs: &[(String, String)]) -> Result<RuleAction, ValidationErrors> {
        match self.action.as_str() {
            "unassigned" => Ok(RuleAction::Unassigned),
            "member" => match self.member_id.trim().parse::<i64>() {
                Ok(m) => Ok(RuleAction::Member(MemberId(m))),
                Err(_) => Err(ValidationErrors::from(FieldError::new(
                    "member_id",
                    "choose the member who gets the leads",
                ))),
            },
            "round_robin" => Ok(RuleAction::RoundRobin(rr_entries(pairs, "rr_")?)),
            "team" => match self.team_id.trim().parse::<i64>() {
                Ok(t) => Ok(RuleAction::Team(leadteam_domain::TeamId(t))),
                Err(_) => Err(ValidationErrors::from(FieldError::new(
                    "team_id",
                    "choose the team whose members share the leads",
                ))),
            },
            _ => Err(ValidationErrors::from(FieldError::new(
                "action",
                "choose what happens to the leads",
            ))),
        }
    }
}

/// The renames of the action's error fields onto the form's.
pub(super) fn action_renames() -> Vec<(String, String)> {
    vec![
        ("action.member_id".into(), "member_id".into()),
        ("action.team_id".into(), "team_id".into()),
        ("action".into(), "action".into()),
    ]
}

/// One choice of the rule form's Facebook page or lead form select.
pub(super) struct FbChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// The choices of the page select (`form` false) or of the lead form select:
/// what the Facebook sources have seen, by name (value: the id), and the
/// rule's own id when it is not among them. Empty when none is known: the
/// form shows a text box for the id then.
pub(super) fn fb_choices(names: &FacebookNames, form: bool, current: &str) -> Vec<FbChoice> {
    let list = if form { &names.forms } else { &names.pages };
    let what = if form { "Form" } else { "Page" };
    let current = current.trim();
    let same_name = |name: &str| {
        list.iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .count()
            > 1
    };
    let mut out: Vec<FbChoice> = list
        .iter()
        .map(|n| FbChoice {
            label: match &n.name {
                // Two with one name are told apart by their ids.
                Some(name) if same_name(name) => format!("{name} ({})", n.id),
                Some(name) => name.clone(),
                None => format!("{what} {} (name not known yet)", n.id),
            },
            selected: n.id == current,
            id: n.id.clone(),
        })
        .collect();
    if !out.is_empty() && !current.is_empty() && !out.iter().any(|c| c.selected) {
        out.push(FbChoice {
            id: current.to_owned(),
            label: format!("{what} {current} (no lead from it yet)"),
            selected: true,
        });
    }
    out
}

/// A page or form id in words: its name and id when known.
fn fb_words(names: &FacebookNames, form: bool, id: &str) -> String {
    match names.name_of(form, id) {
        Some(n) => format!("“{n}” ({})", id.trim()),
        None => id.trim().to_owned(),
    }
}

/// A condition in words; `sources` names the lead sources, `fb` the
/// Facebook pages and forms.
pub(super) fn criterion_words(
    c: &Criterion,
    sources: &[(i64, String)],
    fb: &FacebookNames,
) -> String {
    match c {
        Criterion::Source(id) => match sources.iter().find(|(s, _)| *s == id.0) {
            Some((_, n)) => format!("the lead comes through the lead source “{n}”"),
            None => "the lead comes through a lead source that was deleted".to_owned(),
        },
        Criterion::AnyFacebook => "the lead comes from Facebook Lead Ads".to_owned(),
        Criterion::FacebookPage(p) => format!("the Facebook page is {}", fb_words(fb, false, p)),
        Criterion::FacebookForm(f) => {
            format!("the Facebook lead form is {}", fb_words(fb, true, f))
        }
        Criterion::FieldEquals { field, value } => {
            format!("the field “{}” is “{}”", field.trim(), value.trim())
        }
        Criterion::FieldContains { field, value } => {
            format!("the field “{}” contains “{}”", field.trim(), value.trim())
        }
    }
}

/// An action in words; `members` names the members.
pub(super) fn action_words(a: &RuleAction, members: &[MemberRow]) -> String {
    let name = |m: MemberId| {
        members
            .iter()
            .find(|x| x.id == m)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| format!("member {m}"))
    };
    match a {
        RuleAction::Unassigned => "leave it unassigned, for anyone who may claim it".to_owned(),
        RuleAction::Member(m) => format!("assign it to {}", name(*m)),
        RuleAction::RoundRobin(entries) => {
            let on: Vec<String> = entries
                .iter()
                .filter(|e| e.enabled)
                .map(|e| {
                    let per = e.weight.get();
                    let leads = if per == 1 { "lead" } else { "leads" };
                    format!("{} ({per} {leads} per round)", name(e.member))
                })
                .collect();
            if on.is_empty() {
                "share it in turn, but no member is switched on yet".to_owned()
            } else {
                format!("share it in turn among {}", on.join(", "))
            }
        }
        RuleAction::Team(t) => {
            format!("share it in turn among the members of team {t} as they are then")
        }
    }
}

/// The first-contact fields of a stored limit ("" and "1" without one).
pub(super) fn contact_values(c: Option<ContactLimit>) -> (String, String) {
    match c {
        Some(c) => (c.minutes.to_string(), c.max_moves.to_string()),
        None => (String::new(), "1".to_owned()),
    }
}

/// The first-contact limit of a form (A10): none when the minutes are left
/// empty. Errors name `contact_minutes` and `contact_moves`.
pub(super) fn contact_of(
    pairs: &[(String, String)],
) -> Result<Option<ContactLimit>, ValidationErrors> {
    let minutes = one_of(pairs, "contact_minutes").unwrap_or_default().trim();
    if minutes.is_empty() {
        return Ok(None);
    }
    let moves = one_of(pairs, "contact_moves").unwrap_or_default().trim();
    let bad = |f: &str| ValidationErrors::single(f, "must be a whole number");
    let m: i64 = minutes.parse().map_err(|_| bad("contact_minutes"))?;
    let n: i64 = if moves.is_empty() {
        1
    } else {
        moves.parse().map_err(|_| bad("contact_moves"))?
    };
    ContactLimit::parse("first_contact", m, n)
        .map(Some)
        .map_err(|e| {
            ValidationErrors(
                e.0.into_iter()
                    .map(|f| {
                        let field = if f.field.ends_with("minutes") {
                            "contact_minutes"
                        } else {
                            "contact_moves"
                        };
                        FieldError::new(field, f.message)
                    })
                    .collect(),
            )
        })
}
