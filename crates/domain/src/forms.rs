//! Hosted lead forms (I4): the settings an admin gives a `form` source, as
//! stored and checked. Pure: the page, the post and the rate counters live
//! in `web`, `app` and `store`.

use crate::error::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};

/// The name of the honeypot field: hidden from people, filled by bots.
pub const HONEYPOT: &str = "company_website";

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormField {
    /// The key it is posted and stored under (`name`, `email`, `phone`, or a custom field).
    pub name: String,
    /// What the visitor reads.
    pub label: String,
    /// `text`, `email`, `tel` or `textarea`.
    #[serde(default = "text")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
}

fn text() -> String {
    "text".into()
}

/// The settings of a hosted form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormSettings {
    /// The page's heading.
    pub title: String,
    pub fields: Vec<FormField>,
    /// Shown after a post when there is no redirect.
    pub thank_you: String,
    /// Where the visitor goes after a post (http or https), instead of the thank-you page.
    pub redirect_url: Option<String>,
    /// Sites allowed to post the form (`https://www.example.com`); empty: any.
    pub allowed_origins: Vec<String>,
    /// Posts accepted from one address per minute.
    pub per_address_per_minute: i64,
    /// Posts accepted for the whole form per minute.
    pub per_source_per_minute: i64,
}

impl Default for FormSettings {
    fn default() -> Self {
        let f = |name: &str, label: &str, kind: &str, required: bool| FormField {
            name: name.into(),
            label: label.into(),
            kind: kind.into(),
            required,
        };
        FormSettings {
            title: "Contact us".into(),
            fields: vec![
                f("name", "Your name", "text", true),
                f("email", "Email", "email", true),
                f("phone", "Phone", "tel", false),
                f("message", "Message", "textarea", false),
            ],
            thank_you: "Thank you! We will be in touch soon.".into(),
            redirect_url: None,
            allowed_origins: Vec::new(),
            per_address_per_minute: 10,
            per_source_per_minute: 600,
        }
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, no path.
fn origin_of(raw: &str) -> Option<String> {
    let u = url::Url::parse(raw.trim()).ok()?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

impl FormSettings {
    /// Checks every part, naming the field at fault; answers the settings as stored.
    pub fn check(mut self) -> Result<FormSettings, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        self.title = self.title.trim().to_owned();
        if self.title.is_empty() || self.title.chars().count() > 120 {
            errs.push(FieldError::new("form.title", "must be 1 to 120 characters"));
        }
        if self.fields.is_empty() || self.fields.len() > 20 {
            errs.push(FieldError::new("form.fields", "must list 1 to 20 fields"));
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.name = f.name.trim().to_owned();
            f.label = f.label.trim().to_owned();
            let ok_name = !f.name.is_empty()
                && f.name.len() <= 60
                && f.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok_name {
                errs.push(FieldError::new(
                    format!("form.fields[{i}].name"),
                    "must be 1 to 60 letters, digits, _ or -",
                ));
            } else if f.name == HONEYPOT || seen.contains(&f.name) {
                errs.push(FieldError::new(
                    format!("form.fields[{i}].name"),
                    "is used twice or reserved",
                ));
            }
            seen.push(f.name.clone());
            if f.label.is_empty() || f.label.chars().count() > 120 {
                errs.push(FieldError::new(
                    format!("form.fields[{i}].label"),
                    "must be 1 to 120 characters",
                ));
            }
            if !["text", "email", "tel", "textarea"].contains(&f.kind.as_str()) {
                errs.push(FieldError::new(
                    format!("form.fields[{i}].kind"),
                    "must be text, email, tel or textarea",
                ));
            }
        }
        self.thank_you = self.thank_you.trim().to_owned();
        if self.thank_you.chars().count() > 500 {
            errs.push(FieldError::new(
                "form.thank_you",
                "must be at most 500 characters",
            ));
        }
        self.redirect_url = self
            .redirect_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        if let Some(u) = &self.redirect_url {
            match url::Url::parse(u) {
                Ok(p) if (p.scheme() == "https" || p.scheme() == "http") && p.host().is_some() => {}
                _ => errs.push(FieldError::new(
                    "form.redirect_url",
                    "must be an address starting with https:// or http://",
                )),
            }
        }
        let mut origins = Vec::new();
        for (i, o) in self.allowed_origins.iter().enumerate() {
            if o.trim().is_empty() {
                continue;
            }
            match origin_of(o) {
                Some(o) => origins.push(o),
                None => errs.push(FieldError::new(
                    format!("form.allowed_origins[{i}]"),
                    "must be a site like https://www.example.com",
                )),
            }
        }
        self.allowed_origins = origins;
        if !(1..=10_000).contains(&self.per_address_per_minute) {
            errs.push(FieldError::new(
                "form.per_address_per_minute",
                "must be 1 to 10000",
            ));
        }
        if !(1..=1_000_000).contains(&self.per_source_per_minute) {
            errs.push(FieldError::new(
                "form.per_source_per_minute",
                "must be 1 to 1000000",
            ));
        }
        errs.into_result()?;
        Ok(self)
    }

    /// Whether a post from `origin` (the `Origin` header, or the origin of
    /// the `Referer`) may be accepted: any when no list is set; the form's
    /// own site (`own`) always.
    pub fn origin_allowed(&self, origin: Option<&str>, own: &str) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        let Some(o) = origin.and_then(origin_of) else {
            // No origin (not a browser, or one that hides it): nothing to check.
            return true;
        };
        origin_of(own).as_deref() == Some(o.as_str()) || self.allowed_origins.contains(&o)
    }
}

/// The settings of a source as stored (`settings_json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<FormSettings>,
}

impl SourceSettings {
    pub fn parse(json: &str) -> SourceSettings {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r_i4_redirects_are_http_or_https_only_and_origins_are_checked() {
        let mut s = FormSettings {
            redirect_url: Some("javascript:alert(1)".into()),
            ..FormSettings::default()
        };
        assert!(s.clone().check().is_err());
        s.redirect_url = Some("https://example.com/thanks".into());
        s.allowed_origins = vec!["https://www.example.com/contact".into()];
        let s = s.check().unwrap();
        assert_eq!(s.allowed_origins, vec!["https://www.example.com"]);
        assert!(s.origin_allowed(Some("https://www.example.com"), "http://lt.local"));
        assert!(s.origin_allowed(Some("http://lt.local"), "http://lt.local"));
        assert!(!s.origin_allowed(Some("https://evil.example"), "http://lt.local"));
        assert!(s.origin_allowed(None, "http://lt.local"));
    }
}
