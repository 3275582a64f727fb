//! Parse, don't validate: values that exist only in their valid form.

use crate::error::FieldError;
use serde::Serialize;

/// A normalised email address (trimmed, lower-cased), at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.len() > 254 {
            return Err(FieldError::new(field, "must be at most 254 characters"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(FieldError::new(
                field,
                "must be an email address like name@example.com",
            ));
        };
        let domain_ok = !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
            || !domain_ok
        {
            return Err(FieldError::new(
                field,
                "must be an email address like name@example.com",
            ));
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: a person's, an account's, a team's or a role's. Trimmed,
/// 1..=max characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str, max: usize) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.chars().count() > max {
            return Err(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Name(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that satisfies rules a person can understand:
/// at least 10 characters, at most 128, not only one repeated character, and not
/// the email address itself.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(field: &str, raw: &str, email: Option<&Email>) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at least {} characters long", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters long", Self::MAX_CHARS),
            ));
        }
        let mut chars = raw.chars();
        if let Some(first) = chars.next()
            && chars.all(|c| c == first)
        {
            return Err(FieldError::new(field, "must not be one character repeated"));
        }
        if let Some(e) = email
            && raw.trim().eq_ignore_ascii_case(e.as_str())
        {
            return Err(FieldError::new(field, "must not be your email address"));
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ann@Example.COM ").map(|e| e.into_string()),
            Ok("ann@example.com".to_owned())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.io",
            "a b@x.io",
            "ann@x..io",
            "ann@.x.io",
        ] {
            let err = Email::parse("email", bad).err();
            assert_eq!(err.map(|e| e.field), Some("email".to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn password_rules_name_the_field() {
        let e = Email::parse("email", "ann@example.com").ok();
        assert!(NewPassword::parse("password", "short", e.as_ref()).is_err());
        assert!(NewPassword::parse("password", "aaaaaaaaaaaa", e.as_ref()).is_err());
        assert!(NewPassword::parse("password", "ann@example.com", e.as_ref()).is_err());
        assert!(NewPassword::parse("password", "correct horse battery", e.as_ref()).is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", " Ann ", 10).map(|n| n.into_string()),
            Ok("Ann".into())
        );
        assert!(Name::parse("name", "   ", 10).is_err());
        assert!(Name::parse("name", "01234567890", 10).is_err());
        assert!(Name::parse("name", "a\u{7}b", 10).is_err());
    }
}

/// A full name from a first and a last name, when either is given.
pub fn join_names(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// A phone number normalised to `+` and digits (spaces, dots, dashes and
/// brackets dropped); 6 to 20 digits.
pub fn parse_phone(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        match ch {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(ch),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(FieldError::new(
                    field,
                    "must be a phone number: digits, spaces, + ( ) - .",
                ));
            }
        }
    }
    let digits = out.chars().filter(char::is_ascii_digit).count();
    if !(6..=20).contains(&digits) {
        return Err(FieldError::new(field, "must have between 6 and 20 digits"));
    }
    Ok(out)
}

#[cfg(test)]
mod phone_tests {
    use super::parse_phone;

    #[test]
    fn phones_are_normalised() {
        assert_eq!(
            parse_phone("phone", "+33 (0)6 12-34.56.78"),
            Ok("+330612345678".to_owned())
        );
        assert!(parse_phone("phone", "12345").is_err());
        assert!(parse_phone("phone", "12a456789").is_err());
        assert!(parse_phone("phone", "1+23456789").is_err());
    }
}
