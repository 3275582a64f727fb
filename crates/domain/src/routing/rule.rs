//! Assignment rules (A1, A3) and the choice of the rule that decides a lead.

use super::criteria::{Criterion, all_match};
use super::lead::{LeadFacts, LeadsPerRound};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{MemberId, RuleId, TeamId};
use serde::{Deserialize, Serialize};

/// One member's place in a round robin (A2): its weight and whether it is
/// toggled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RrEntry {
    /// The member.
    pub member: MemberId,
    /// How many consecutive leads it gets per round.
    pub weight: LeadsPerRound,
    /// Toggled in ("Assign Leads" on); a disabled entry keeps its place but gets nothing.
    pub enabled: bool,
}

/// What an advanced rule does with a lead that matches it (A3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RuleAction {
    /// Leave the lead unassigned, for anyone allowed to claim it.
    Unassigned,
    /// Round robin among these members, in this order.
    RoundRobin(Vec<RrEntry>),
    /// Assign to this one member.
    Member(MemberId),
    /// Round robin among the active members of this team, as it is when the
    /// lead arrives (A13).
    Team(TeamId),
}

/// "First contact within N minutes" (A10): counted in the assignee's
/// working hours; a lead not contacted in time goes by the same rule to the
/// next available eligible member, at most `max_moves` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactLimit {
    pub minutes: u32,
    pub max_moves: u8,
}

impl ContactLimit {
    /// The longest limit accepted: a week of minutes.
    pub const MAX_MINUTES: u32 = 7 * 24 * 60;
    /// The most moves accepted.
    pub const MAX_MOVES: u8 = 10;

    /// Checks a limit given by a person; `field` names it in errors.
    pub fn parse(
        field: &str,
        minutes: i64,
        max_moves: i64,
    ) -> Result<ContactLimit, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !(1..=i64::from(Self::MAX_MINUTES)).contains(&minutes) {
            errors.push(FieldError::new(
                format!("{field}.minutes"),
                format!("must be between 1 and {} (a week)", Self::MAX_MINUTES),
            ));
        }
        if !(1..=i64::from(Self::MAX_MOVES)).contains(&max_moves) {
            errors.push(FieldError::new(
                format!("{field}.max_moves"),
                format!("must be between 1 and {}", Self::MAX_MOVES),
            ));
        }
        errors.into_result()?;
        Ok(ContactLimit {
            minutes: u32::try_from(minutes).unwrap_or(1),
            max_moves: u8::try_from(max_moves).unwrap_or(1),
        })
    }
}

/// The default rule (A1): what happens to leads no advanced rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DefaultRule {
    /// Leave new leads unassigned.
    #[default]
    Unassigned,
    /// Round robin among these members, in this order.
    RoundRobin(Vec<RrEntry>),
}

/// An advanced assignment rule (A3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule's id.
    pub id: RuleId,
    /// The name shown in the rules list.
    pub name: String,
    /// The rule matches a lead when all of these match.
    pub criteria: Vec<Criterion>,
    /// What happens to a lead that matches.
    pub action: RuleAction,
    /// A first-contact limit for the leads it assigns (A10), if any.
    #[serde(default)]
    pub contact: Option<ContactLimit>,
}

impl Rule {
    /// The longest rule name accepted.
    pub const MAX_NAME_CHARS: usize = 100;

    /// Whether this rule matches `lead`: all criteria match (and there is at least one).
    pub fn matches(&self, lead: &LeadFacts) -> bool {
        all_match(&self.criteria, lead)
    }

    /// Check a rule given by a person (X2): a name, at least one valid
    /// criterion, and no member twice in a round robin.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > Self::MAX_NAME_CHARS {
            let msg = format!("must be at most {} characters", Self::MAX_NAME_CHARS);
            errors.push(FieldError::new("name", msg));
        }
        if self.criteria.is_empty() {
            errors.push(FieldError::new("criteria", "add at least one criterion"));
        }
        for (i, c) in self.criteria.iter().enumerate() {
            errors.take(c.check(&format!("criteria[{i}]")));
        }
        if let RuleAction::RoundRobin(entries) = &self.action {
            errors.take(check_round_robin("action", entries));
        }
        errors.into_result()
    }
}

impl RuleAction {
    /// The action once `member` is removed from the account (X5): it leaves
    /// round robins; `None` when the action does not change. A rule that
    /// assigns to that member alone keeps naming it (its leads then stay
    /// unassigned, saying the member was removed, until someone changes it).
    pub fn without(&self, member: MemberId) -> Option<RuleAction> {
        match self {
            RuleAction::RoundRobin(entries) if entries.iter().any(|e| e.member == member) => {
                Some(RuleAction::RoundRobin(
                    entries
                        .iter()
                        .copied()
                        .filter(|e| e.member != member)
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    /// Whether the action gives leads to `member` alone (or to a round robin
    /// of which it is the only member left toggled in).
    pub fn only_target_is(&self, member: MemberId) -> bool {
        match self {
            RuleAction::Member(m) => *m == member,
            RuleAction::RoundRobin(entries) => {
                let on: Vec<&RrEntry> = entries.iter().filter(|e| e.enabled).collect();
                !on.is_empty() && on.iter().all(|e| e.member == member)
            }
            RuleAction::Unassigned | RuleAction::Team(_) => false,
        }
    }
}

impl DefaultRule {
    /// The default rule once `member` is removed (see [`RuleAction::without`]).
    pub fn without(&self, member: MemberId) -> Option<DefaultRule> {
        match self {
            DefaultRule::RoundRobin(entries) if entries.iter().any(|e| e.member == member) => {
                Some(DefaultRule::RoundRobin(
                    entries
                        .iter()
                        .copied()
                        .filter(|e| e.member != member)
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    /// Check a default rule given by a person (X2): no member twice.
    pub fn check(&self) -> Result<(), FieldError> {
        match self {
            DefaultRule::Unassigned => Ok(()),
            DefaultRule::RoundRobin(entries) => check_round_robin("default", entries),
        }
    }
}

/// A round robin lists each member at most once; `field` names the list in the error.
pub fn check_round_robin(field: &str, entries: &[RrEntry]) -> Result<(), FieldError> {
    for (i, e) in entries.iter().enumerate() {
        if entries[..i]
            .iter()
            .any(|earlier| earlier.member == e.member)
        {
            let msg = format!("lists member {} more than once", e.member);
            return Err(FieldError::new(field, msg));
        }
    }
    Ok(())
}

/// Which rule decided a lead: an advanced rule, or the default rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RuleRef {
    /// The advanced rule with this id.
    Advanced(RuleId),
    /// The default rule.
    Default,
    /// Not a rule of the book: a client delivered to a team's round robin
    /// (A13, C9).
    Team(TeamId),
}

/// The action to carry out, borrowed from the rule that decided, without the
/// difference between an advanced and the default rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind<'a> {
    /// Leave the lead unassigned.
    Unassigned,
    /// Round robin among these entries.
    RoundRobin(&'a [RrEntry]),
    /// Assign to this member.
    Member(MemberId),
    /// Round robin among this team's active members (A13).
    Team(TeamId),
}

/// The action chosen by [`match_rule`], with the rule it came from so that the
/// [`Decision`](super::Decision) can record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionRef<'a> {
    /// The rule the action belongs to.
    pub rule: RuleRef,
    /// What to do.
    pub kind: ActionKind<'a>,
}

impl<'a> ActionRef<'a> {
    /// The action of advanced rule `rule`.
    pub fn of_rule(rule: &'a Rule) -> Self {
        let kind = match &rule.action {
            RuleAction::Unassigned => ActionKind::Unassigned,
            RuleAction::RoundRobin(entries) => ActionKind::RoundRobin(entries),
            RuleAction::Member(m) => ActionKind::Member(*m),
            RuleAction::Team(t) => ActionKind::Team(*t),
        };
        Self {
            rule: RuleRef::Advanced(rule.id),
            kind,
        }
    }

    /// The action of the default rule.
    pub fn of_default(default: &'a DefaultRule) -> Self {
        let kind = match default {
            DefaultRule::Unassigned => ActionKind::Unassigned,
            DefaultRule::RoundRobin(entries) => ActionKind::RoundRobin(entries),
        };
        Self {
            rule: RuleRef::Default,
            kind,
        }
    }

    /// The round robin of a team a client is delivered to (A13).
    pub fn of_team(team: TeamId) -> Self {
        Self {
            rule: RuleRef::Team(team),
            kind: ActionKind::Team(team),
        }
    }

    /// Whether carrying out this action needs a round-robin position. Only then
    /// should the store take the next value of the rule's counter.
    pub fn uses_position(&self) -> bool {
        matches!(self.kind, ActionKind::RoundRobin(_) | ActionKind::Team(_))
    }
}

/// The rule that decides `lead` (A3): the first advanced rule, top to bottom,
/// whose criteria all match; else the default rule, which is always last.
pub fn match_rule<'a>(
    rules: &'a [Rule],
    default: &'a DefaultRule,
    lead: &LeadFacts,
) -> (RuleRef, ActionRef<'a>) {
    let action = rules
        .iter()
        .find(|r| r.matches(lead))
        .map_or_else(|| ActionRef::of_default(default), ActionRef::of_rule);
    (action.rule, action)
}

#[cfg(test)]
mod tests {
    use super::super::lead::SourceKind;
    use super::*;
    use crate::ids::SourceId;

    fn entry(m: i64, w: i64, enabled: bool) -> RrEntry {
        let weight = LeadsPerRound::parse("w", w).unwrap_or_default();
        RrEntry {
            member: MemberId(m),
            weight,
            enabled,
        }
    }

    fn rule(id: i64, criteria: Vec<Criterion>, action: RuleAction) -> Rule {
        Rule {
            id: RuleId(id),
            name: format!("rule {id}"),
            criteria,
            action,
            contact: None,
        }
    }

    fn from_source(id: i64) -> LeadFacts {
        let mut l = LeadFacts::new(SourceKind::Website);
        l.source_id = Some(SourceId(id));
        l
    }

    #[test]
    fn r_a3_first_matching_rule_decides_and_default_is_last() {
        let rules = vec![
            rule(
                10,
                vec![Criterion::Source(SourceId(1))],
                RuleAction::Unassigned,
            ),
            rule(
                11,
                vec![Criterion::Source(SourceId(2))],
                RuleAction::Member(MemberId(5)),
            ),
            rule(
                12,
                vec![Criterion::Source(SourceId(2))],
                RuleAction::Member(MemberId(6)),
            ),
        ];
        let default = DefaultRule::RoundRobin(vec![entry(1, 1, true)]);

        let (r, a) = match_rule(&rules, &default, &from_source(2));
        assert_eq!(r, RuleRef::Advanced(RuleId(11)));
        assert_eq!(a.kind, ActionKind::Member(MemberId(5)));
        assert_eq!(a.rule, r);

        let (r, a) = match_rule(&rules, &default, &from_source(3));
        assert_eq!(r, RuleRef::Default);
        assert!(a.uses_position());

        let (r, a) = match_rule(&[], &DefaultRule::Unassigned, &from_source(1));
        assert_eq!((r, a.kind), (RuleRef::Default, ActionKind::Unassigned));
        assert!(!a.uses_position());
    }

    #[test]
    fn r_a3_a_rule_without_criteria_never_matches() {
        let rules = vec![rule(1, vec![], RuleAction::Member(MemberId(1)))];
        let (r, _) = match_rule(&rules, &DefaultRule::Unassigned, &from_source(1));
        assert_eq!(r, RuleRef::Default);
    }

    fn bad_fields(r: &Rule) -> Vec<String> {
        let errors = r.check().err().unwrap_or_default();
        errors.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn r_x2_rule_check_names_every_bad_field() {
        let mut r = rule(1, vec![Criterion::AnyFacebook], RuleAction::Unassigned);
        assert!(r.check().is_ok());
        r.name = "  ".into();
        r.criteria = vec![
            Criterion::AnyFacebook,
            Criterion::FacebookForm(String::new()),
        ];
        r.action = RuleAction::RoundRobin(vec![entry(1, 1, true), entry(1, 2, false)]);
        assert_eq!(bad_fields(&r), ["name", "criteria[1]", "action"]);
        r.criteria.clear();
        assert!(bad_fields(&r).contains(&"criteria".to_owned()));
    }

    #[test]
    fn r_x2_default_round_robin_lists_each_member_once() {
        assert!(DefaultRule::Unassigned.check().is_ok());
        assert!(
            DefaultRule::RoundRobin(vec![entry(1, 1, true), entry(2, 5, true)])
                .check()
                .is_ok()
        );
        let twice = DefaultRule::RoundRobin(vec![entry(1, 1, true), entry(1, 1, false)]);
        assert_eq!(
            twice.check().err().map(|e| e.field),
            Some("default".to_owned())
        );
    }
}
