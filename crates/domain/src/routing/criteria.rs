//! Rule criteria (A3): what an advanced rule looks at to decide that a lead is its.

use super::lead::{LeadFacts, SourceKind, normalise};
use crate::error::FieldError;
use crate::ids::SourceId;
use serde::{Deserialize, Serialize};

/// One condition of an advanced rule. A rule matches a lead when all of its
/// criteria match.
///
/// Text is compared after trimming and ignoring case. Stored as JSON like
/// `{"kind":"source","value":12}`, `{"kind":"any_facebook"}` or
/// `{"kind":"field_equals","value":{"field":"city","value":"Lyon"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Criterion {
    /// The lead came through this configured source.
    Source(SourceId),
    /// The lead came from this Facebook page.
    FacebookPage(String),
    /// The lead came from this Facebook lead form.
    FacebookForm(String),
    /// The lead came from Facebook Lead Ads, whatever the page or form.
    AnyFacebook,
    /// Custom field `field` equals `value`.
    FieldEquals {
        /// The custom field's name.
        field: String,
        /// The value it must equal.
        value: String,
    },
    /// Custom field `field` contains `value`.
    FieldContains {
        /// The custom field's name.
        field: String,
        /// The text it must contain.
        value: String,
    },
}

impl Criterion {
    /// Whether `lead` meets this criterion. A missing Facebook id or custom
    /// field never matches.
    pub fn matches(&self, lead: &LeadFacts) -> bool {
        match self {
            Criterion::Source(id) => lead.source_id == Some(*id),
            Criterion::FacebookPage(page) => same_text(lead.facebook_page_id.as_deref(), page),
            Criterion::FacebookForm(form) => same_text(lead.facebook_form_id.as_deref(), form),
            Criterion::AnyFacebook => lead.source_kind == SourceKind::Facebook,
            Criterion::FieldEquals { field, value } => same_text(lead.field(field), value),
            Criterion::FieldContains { field, value } => lead
                .field(field)
                .is_some_and(|v| normalise(v).contains(&normalise(value))),
        }
    }

    /// Check a criterion given by a person; `field` names it in errors
    /// (e.g. `criteria[2]`). Ids, field names and values must not be blank.
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        let blank = |s: &str| s.trim().is_empty();
        match self {
            Criterion::Source(_) | Criterion::AnyFacebook => Ok(()),
            Criterion::FacebookPage(p) if blank(p) => {
                Err(FieldError::new(field, "choose a Facebook page"))
            }
            Criterion::FacebookForm(f) if blank(f) => {
                Err(FieldError::new(field, "choose a Facebook lead form"))
            }
            Criterion::FacebookPage(_) | Criterion::FacebookForm(_) => Ok(()),
            Criterion::FieldEquals { field: name, value }
            | Criterion::FieldContains { field: name, value } => {
                if blank(name) {
                    Err(FieldError::new(format!("{field}.field"), "is required"))
                } else if blank(value) {
                    Err(FieldError::new(format!("{field}.value"), "is required"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// A short description for lists and audit entries.
    pub fn describe(&self) -> String {
        match self {
            Criterion::Source(id) => format!("source {id}"),
            Criterion::FacebookPage(p) => format!("Facebook page {}", p.trim()),
            Criterion::FacebookForm(f) => format!("Facebook form {}", f.trim()),
            Criterion::AnyFacebook => "any Facebook lead".to_owned(),
            Criterion::FieldEquals { field, value } => {
                format!("{} equals \"{}\"", field.trim(), value.trim())
            }
            Criterion::FieldContains { field, value } => {
                format!("{} contains \"{}\"", field.trim(), value.trim())
            }
        }
    }
}

/// Whether all of `criteria` match `lead`. An empty list never matches: a rule
/// without criteria is unfinished and must not swallow every lead.
pub fn all_match(criteria: &[Criterion], lead: &LeadFacts) -> bool {
    !criteria.is_empty() && criteria.iter().all(|c| c.matches(lead))
}

fn same_text(have: Option<&str>, want: &str) -> bool {
    have.is_some_and(|h| normalise(h) == normalise(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(kind: SourceKind) -> LeadFacts {
        LeadFacts::new(kind)
    }

    fn with_field(name: &str, value: &str) -> LeadFacts {
        let mut l = lead(SourceKind::Webhook);
        l.fields.insert(name.into(), value.into());
        l
    }

    fn eq(field: &str, value: &str) -> Criterion {
        Criterion::FieldEquals {
            field: field.into(),
            value: value.into(),
        }
    }

    fn contains(field: &str, value: &str) -> Criterion {
        Criterion::FieldContains {
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn r_a3_source_criterion_matches_that_source_only() {
        let mut l = lead(SourceKind::Website);
        assert!(!Criterion::Source(SourceId(7)).matches(&l));
        l.source_id = Some(SourceId(7));
        assert!(Criterion::Source(SourceId(7)).matches(&l));
        assert!(!Criterion::Source(SourceId(8)).matches(&l));
    }

    #[test]
    fn r_a3_facebook_page_and_form_criteria_compare_trimmed_ids() {
        let mut l = lead(SourceKind::Facebook);
        assert!(!Criterion::FacebookPage("123".into()).matches(&l));
        l.facebook_page_id = Some("123".into());
        l.facebook_form_id = Some(" Form-9 ".into());
        assert!(Criterion::FacebookPage(" 123".into()).matches(&l));
        assert!(!Criterion::FacebookPage("1234".into()).matches(&l));
        assert!(Criterion::FacebookForm("form-9".into()).matches(&l));
        assert!(!Criterion::FacebookForm("123".into()).matches(&l));
    }

    #[test]
    fn r_a3_any_facebook_matches_every_facebook_lead_and_nothing_else() {
        assert!(Criterion::AnyFacebook.matches(&lead(SourceKind::Facebook)));
        for k in SourceKind::ALL
            .into_iter()
            .filter(|k| *k != SourceKind::Facebook)
        {
            assert!(!Criterion::AnyFacebook.matches(&lead(k)), "{k}");
        }
    }

    #[test]
    fn r_a3_field_equals_ignores_case_and_surrounding_space() {
        let l = with_field("preferred_contact_method", "  WhatsApp ");
        assert!(eq("preferred_contact_method", "whatsapp").matches(&l));
        assert!(eq("Preferred_Contact_Method", "WHATSAPP ").matches(&l));
        assert!(!eq("preferred_contact_method", "whats").matches(&l));
        assert!(!eq("other_field", "whatsapp").matches(&l));
    }

    #[test]
    fn r_a3_field_contains_ignores_case() {
        let l = with_field("message", "Please call me about the PREMIUM plan");
        assert!(contains("message", "premium").matches(&l));
        assert!(contains("message", " Premium Plan ").matches(&l));
        assert!(!contains("message", "basic").matches(&l));
        assert!(!contains("missing", "premium").matches(&l));
    }

    #[test]
    fn r_a3_a_rule_matches_only_when_all_criteria_match() {
        let mut l = with_field("city", "Lyon");
        l.source_kind = SourceKind::Facebook;
        let both = [Criterion::AnyFacebook, eq("city", "lyon")];
        assert!(all_match(&both, &l));
        let one_fails = [Criterion::AnyFacebook, eq("city", "paris")];
        assert!(!all_match(&one_fails, &l));
        assert!(
            !all_match(&[], &l),
            "a rule without criteria matches nothing"
        );
    }

    #[test]
    fn r_x2_blank_criteria_are_refused_with_their_field_named() {
        assert!(Criterion::AnyFacebook.check("criteria[0]").is_ok());
        assert!(eq("city", "Lyon").check("criteria[0]").is_ok());
        let e = Criterion::FacebookPage("  ".into())
            .check("criteria[1]")
            .err();
        assert_eq!(e.map(|e| e.field), Some("criteria[1]".to_owned()));
        let e = eq(" ", "x").check("criteria[2]").err();
        assert_eq!(e.map(|e| e.field), Some("criteria[2].field".to_owned()));
        let e = contains("city", "").check("criteria[3]").err();
        assert_eq!(e.map(|e| e.field), Some("criteria[3].value".to_owned()));
    }

    #[test]
    fn criteria_describe_themselves() {
        assert_eq!(Criterion::Source(SourceId(4)).describe(), "source 4");
        assert_eq!(contains(" city", "ly ").describe(), "city contains \"ly\"");
    }
}
