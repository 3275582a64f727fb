//! What the routing engine knows of a new lead, and the parsed round-robin weight.

use crate::error::FieldError;
use crate::ids::SourceId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many leads one member gets per round-robin round (A2): 1 to 5.
///
/// Deserializing checks the range too, so a stored rule can never hold a
/// weight of 0 (which would drop the member from the wheel without saying so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct LeadsPerRound(u8);

impl LeadsPerRound {
    /// The smallest weight: one lead per round.
    pub const MIN: LeadsPerRound = LeadsPerRound(1);
    /// The largest weight: five leads per round.
    pub const MAX: LeadsPerRound = LeadsPerRound(5);

    /// Parse a weight given for `field`; anything outside 1..=5 names the field.
    pub fn parse(field: &str, v: i64) -> Result<Self, FieldError> {
        match u8::try_from(v) {
            Ok(n) if (Self::MIN.0..=Self::MAX.0).contains(&n) => Ok(LeadsPerRound(n)),
            _ => Err(FieldError::new(field, "must be a whole number from 1 to 5")),
        }
    }

    /// The weight as a number, 1 to 5.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for LeadsPerRound {
    fn default() -> Self {
        Self::MIN
    }
}

impl TryFrom<i64> for LeadsPerRound {
    type Error = FieldError;

    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::parse("leads_per_round", v)
    }
}

impl From<LeadsPerRound> for i64 {
    fn from(w: LeadsPerRound) -> Self {
        i64::from(w.0)
    }
}

impl std::fmt::Display for LeadsPerRound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The kind of source a lead came in through (I1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A website form posting to the form webhook.
    Website,
    /// A generic (Zapier-style) webhook.
    Webhook,
    /// Facebook Lead Ads.
    Facebook,
    /// Google Ads lead forms.
    Google,
    /// Added by hand by a member.
    Manual,
    /// A row of a CSV import.
    Import,
}

impl SourceKind {
    /// Every kind, in a stable order (for select boxes and tests).
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Website,
        SourceKind::Webhook,
        SourceKind::Facebook,
        SourceKind::Google,
        SourceKind::Manual,
        SourceKind::Import,
    ];

    /// The snake_case name stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Website => "website",
            SourceKind::Webhook => "webhook",
            SourceKind::Facebook => "facebook",
            SourceKind::Google => "google",
            SourceKind::Manual => "manual",
            SourceKind::Import => "import",
        }
    }

    /// The kind named by its snake_case name, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The facts about one new lead that assignment rules may look at (A3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFacts {
    /// The kind of source the lead came through.
    pub source_kind: SourceKind,
    /// The configured source it came through, if any (manual leads have none).
    pub source_id: Option<SourceId>,
    /// The Facebook page id, for Facebook Lead Ads leads.
    pub facebook_page_id: Option<String>,
    /// The Facebook lead form id, for Facebook Lead Ads leads.
    pub facebook_form_id: Option<String>,
    /// Custom fields of the lead, by field name.
    pub fields: BTreeMap<String, String>,
}

impl LeadFacts {
    /// A lead from `source_kind` with no source, no Facebook ids and no fields.
    pub fn new(source_kind: SourceKind) -> Self {
        Self {
            source_kind,
            source_id: None,
            facebook_page_id: None,
            facebook_form_id: None,
            fields: BTreeMap::new(),
        }
    }

    /// The value of custom field `name`: the exact name first, else the first
    /// field whose trimmed name equals `name` trimmed, ignoring case (lead forms
    /// are not consistent about "Email" and "email").
    pub fn field(&self, name: &str) -> Option<&str> {
        if let Some(v) = self.fields.get(name) {
            return Some(v);
        }
        let wanted = normalise(name);
        self.fields
            .iter()
            .find(|(k, _)| normalise(k) == wanted)
            .map(|(_, v)| v.as_str())
    }
}

/// Trimmed and lower-cased: the form in which criteria compare text.
pub(crate) fn normalise(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn r_a2_leads_per_round_is_one_to_five() {
        for v in 1..=5 {
            assert_eq!(
                LeadsPerRound::parse("w", v).map(LeadsPerRound::get),
                Ok(v as u8)
            );
        }
        for bad in [0, 6, -1, 256, i64::MAX, i64::MIN] {
            let err = LeadsPerRound::parse("members[0].weight", bad).unwrap_err();
            assert_eq!(err.field, "members[0].weight");
            assert_eq!(err.message, "must be a whole number from 1 to 5");
        }
    }

    #[test]
    fn r_a2_leads_per_round_is_checked_when_deserialized() {
        use serde::de::value::{Error, I64Deserializer};
        let read = |v: i64| LeadsPerRound::deserialize(I64Deserializer::<Error>::new(v));
        assert_eq!(read(3).map(LeadsPerRound::get), Ok(3));
        assert!(read(0).is_err());
        assert!(read(6).is_err());
        assert_eq!(i64::from(LeadsPerRound::MAX), 5);
    }

    #[test]
    fn source_kinds_round_trip_their_names() {
        for k in SourceKind::ALL {
            assert_eq!(SourceKind::parse(k.as_str()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(SourceKind::parse("Facebook"), None);
        assert_eq!(SourceKind::parse("zapier"), None);
    }

    #[test]
    fn fields_are_found_by_exact_then_loose_name() {
        let mut lead = LeadFacts::new(SourceKind::Website);
        lead.fields
            .insert("Preferred Contact".into(), "WhatsApp".into());
        lead.fields.insert("city".into(), "Lyon".into());
        assert_eq!(lead.field("city"), Some("Lyon"));
        assert_eq!(lead.field(" preferred contact "), Some("WhatsApp"));
        assert_eq!(lead.field("country"), None);
    }
}
