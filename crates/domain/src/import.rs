//! CSV import of clients (I2, I3), free of IO: which column goes where, and
//! whether one row is a client that can be stored (with the reason when not).
//!
//! The reading of the file and the storing of rows live in the app and the
//! store; this module decides, for a header and for each row, what it means.

use crate::FieldError;
use crate::validate::{Email, Name, join_names, parse_phone};
use std::collections::{BTreeMap, HashSet};

/// At most this many columns become custom fields.
pub const MAX_CUSTOM_COLUMNS: usize = 50;
/// A custom field's name is at most this many characters.
pub const MAX_FIELD_NAME: usize = 60;
/// A custom field's value is at most this many characters.
pub const MAX_FIELD_VALUE: usize = 1000;
/// A client's name is at most this many characters.
pub const MAX_NAME: usize = 200;

/// The separator of a CSV file, from its first line: a comma, a semicolon
/// (spreadsheets in many countries save so) or a tab, whichever occurs most
/// outside quotes; a comma when none does.
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|i| (counts[*i], usize::from(*i == 0)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// The statuses a row may give (the same as a client's).
pub const STATUSES: [&str; 4] = ["open", "contacted", "won", "lost"];

/// Where one column of the file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Status,
    /// A custom field of this name.
    Field(String),
    /// Not imported.
    Ignore,
}

impl Target {
    /// The words a `map=` parameter uses: `name`, `first_name`, `last_name`,
    /// `email`, `phone`, `status`, `field:<Name>` (or `fields.<Name>`), `-`.
    pub fn parse(raw: &str) -> Option<Target> {
        let t = raw.trim();
        if let Some(f) = t
            .strip_prefix("field:")
            .or_else(|| t.strip_prefix("fields."))
        {
            let f = f.trim();
            return (!f.is_empty()).then(|| Target::Field(f.to_owned()));
        }
        Some(match t.to_ascii_lowercase().as_str() {
            "name" => Target::Name,
            "first_name" => Target::FirstName,
            "last_name" => Target::LastName,
            "email" => Target::Email,
            "phone" => Target::Phone,
            "status" => Target::Status,
            "-" | "ignore" => Target::Ignore,
            _ => return None,
        })
    }

    /// How the target is written in a report and in `map=`.
    pub fn describe(&self) -> String {
        match self {
            Target::Name => "name".into(),
            Target::FirstName => "first_name".into(),
            Target::LastName => "last_name".into(),
            Target::Email => "email".into(),
            Target::Phone => "phone".into(),
            Target::Status => "status".into(),
            Target::Field(f) => format!("field:{f}"),
            Target::Ignore => "-".into(),
        }
    }

    /// The column a header names when no mapping says otherwise: the usual
    /// spellings of the contact fields, else a custom field of that name.
    pub fn guess(header: &str) -> Target {
        let key: String = header
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "name" | "fullname" | "contactname" | "clientname" | "leadname" => Target::Name,
            "firstname" | "givenname" | "forename" => Target::FirstName,
            "lastname" | "surname" | "familyname" => Target::LastName,
            "email" | "emailaddress" | "mail" => Target::Email,
            "phone" | "phonenumber" | "mobile" | "mobilephone" | "mobilenumber" | "tel"
            | "telephone" | "whatsapp" | "cell" | "cellphone" => Target::Phone,
            "status" => Target::Status,
            "" => Target::Ignore,
            _ => Target::Field(header.trim().to_owned()),
        }
    }
}

/// The columns of a file, resolved from its header and an optional mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// The header as read, one entry per column.
    pub headers: Vec<String>,
    /// Where each column goes, in the same order.
    pub targets: Vec<Target>,
}

/// Parses a `map=` parameter: `Header:target` pairs separated by commas
/// (`Full Name:name,E-mail:email,Budget:field:Budget,Notes:-`).
pub fn parse_mapping(raw: &str) -> Result<Vec<(String, Target)>, FieldError> {
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((header, target)) = part.split_once(':') else {
            return Err(FieldError::new(
                "map",
                format!("`{part}` is not `Column:target`"),
            ));
        };
        let header = header.trim();
        if header.is_empty() {
            return Err(FieldError::new("map", format!("`{part}` names no column")));
        }
        let Some(t) = Target::parse(target) else {
            return Err(FieldError::new(
                "map",
                format!(
                    "`{}` is not a target: use name, first_name, last_name, email, phone, status, field:<Name> or -",
                    target.trim()
                ),
            ));
        };
        if out.iter().any(|(h, _): &(String, Target)| h == header) {
            return Err(FieldError::new(
                "map",
                format!("column `{header}` is mapped twice"),
            ));
        }
        out.push((header.to_owned(), t));
    }
    Ok(out)
}

impl Columns {
    /// Resolves the header of a file: mapped columns go where the mapping
    /// says, the others where their name suggests. Refuses a header that
    /// cannot give a client (no name, email or phone column), names twice
    /// the same target, or has too many custom columns.
    pub fn resolve(
        headers: Vec<String>,
        mapping: &[(String, Target)],
    ) -> Result<Columns, FieldError> {
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(FieldError::new(
                "file",
                "the first line must be a header naming the columns",
            ));
        }
        let mut seen = HashSet::new();
        for h in &headers {
            let h = h.trim();
            if !h.is_empty() && !seen.insert(h.to_lowercase()) {
                return Err(FieldError::new(
                    "file",
                    format!("the header names column `{h}` twice"),
                ));
            }
        }
        for (h, _) in mapping {
            if !headers.iter().any(|x| x.trim() == h) {
                return Err(FieldError::new(
                    "map",
                    format!("the file has no column named `{h}`"),
                ));
            }
        }
        let targets: Vec<Target> = headers
            .iter()
            .map(|h| {
                mapping
                    .iter()
                    .find(|(m, _)| m == h.trim())
                    .map_or_else(|| Target::guess(h), |(_, t)| t.clone())
            })
            .collect();
        let mut used = HashSet::new();
        for t in &targets {
            if matches!(t, Target::Ignore) {
                continue;
            }
            let key = match t {
                Target::Field(f) => format!("field:{}", f.to_lowercase()),
                other => other.describe(),
            };
            if !used.insert(key.clone()) {
                return Err(FieldError::new(
                    "map",
                    format!("two columns go to `{key}`: map one of them elsewhere or to -"),
                ));
            }
            if let Target::Field(f) = t
                && f.chars().count() > MAX_FIELD_NAME
            {
                return Err(FieldError::new(
                    "map",
                    format!("custom field names are at most {MAX_FIELD_NAME} characters: `{f}`"),
                ));
            }
        }
        let custom = targets
            .iter()
            .filter(|t| matches!(t, Target::Field(_)))
            .count();
        if custom > MAX_CUSTOM_COLUMNS {
            return Err(FieldError::new(
                "map",
                format!(
                    "{custom} columns would become custom fields; at most {MAX_CUSTOM_COLUMNS} (map the others to -)"
                ),
            ));
        }
        if !targets.iter().any(|t| {
            matches!(
                t,
                Target::Name | Target::FirstName | Target::LastName | Target::Email | Target::Phone
            )
        }) {
            return Err(FieldError::new(
                "map",
                "no column gives a name, an email or a phone; name one with map=Column:name",
            ));
        }
        Ok(Columns { headers, targets })
    }

    /// Checks one row (its cells in column order) and gives the client it
    /// describes, or the first reason it cannot be stored, naming the field.
    pub fn row(&self, cells: &[&str]) -> Result<ImportRow, FieldError> {
        if cells.len() != self.targets.len() {
            return Err(FieldError::new(
                "row",
                format!(
                    "has {} cells where the header has {}",
                    cells.len(),
                    self.targets.len()
                ),
            ));
        }
        let mut row = ImportRow::default();
        let (mut first, mut last) = (None, None);
        for (target, cell) in self.targets.iter().zip(cells) {
            let v = cell.trim();
            if v.is_empty() {
                continue;
            }
            match target {
                Target::Name => row.name = Some(Name::parse("name", v, MAX_NAME)?.into_string()),
                Target::FirstName => first = Some(v),
                Target::LastName => last = Some(v),
                Target::Email => row.email = Some(Email::parse("email", v)?.into_string()),
                Target::Phone => row.phone = Some(parse_phone("phone", v)?),
                Target::Status => {
                    let s = v.to_ascii_lowercase();
                    if !STATUSES.contains(&s.as_str()) {
                        return Err(FieldError::new(
                            "status",
                            "must be one of open, contacted, won, lost",
                        ));
                    }
                    row.status = Some(s);
                }
                Target::Field(f) => {
                    if v.chars().count() > MAX_FIELD_VALUE {
                        return Err(FieldError::new(
                            format!("fields.{f}"),
                            format!("at most {MAX_FIELD_VALUE} characters"),
                        ));
                    }
                    row.fields.insert(f.clone(), v.to_owned());
                }
                Target::Ignore => {}
            }
        }
        if row.name.is_none()
            && let Some(joined) = join_names(first, last)
        {
            row.name = Some(Name::parse("name", &joined, MAX_NAME)?.into_string());
        }
        if row.name.is_none() && row.email.is_none() && row.phone.is_none() {
            return Err(FieldError::new(
                "name",
                "the row has no name, email or phone",
            ));
        }
        Ok(row)
    }
}

/// A row that can be stored as a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRow {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<String>,
    pub fields: BTreeMap<String, String>,
}

impl ImportRow {
    /// The name the client is shown under: its name, else its email, else its phone.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.email.as_deref())
            .or(self.phone.as_deref())
            .unwrap_or("Imported client")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cols(h: &[&str], map: &str) -> Result<Columns, FieldError> {
        Columns::resolve(
            h.iter().map(|s| (*s).to_owned()).collect(),
            &parse_mapping(map)?,
        )
    }

    #[test]
    fn i3_usual_headers_are_recognised_and_the_rest_become_custom_fields() {
        let c = cols(&["Full Name", "E-mail", "Mobile", "Budget", "Status"], "").unwrap();
        assert_eq!(
            c.targets,
            vec![
                Target::Name,
                Target::Email,
                Target::Phone,
                Target::Field("Budget".into()),
                Target::Status
            ]
        );
        let r = c
            .row(&[
                "Ada Lovelace",
                "ADA@example.com",
                "+44 20 7946 0000",
                "10k",
                "Won",
            ])
            .unwrap();
        assert_eq!(r.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(r.email.as_deref(), Some("ada@example.com"));
        assert_eq!(r.phone.as_deref(), Some("+442079460000"));
        assert_eq!(r.status.as_deref(), Some("won"));
        assert_eq!(r.fields.get("Budget").map(String::as_str), Some("10k"));
    }

    #[test]
    fn i3_a_mapping_overrides_the_guess_and_names_its_errors() {
        let c = cols(
            &["Who", "Where", "Notes"],
            "Who:name, Where:field:City, Notes:-",
        )
        .unwrap();
        assert_eq!(
            c.targets,
            vec![Target::Name, Target::Field("City".into()), Target::Ignore]
        );
        let e = cols(&["Who"], "Whom:name").unwrap_err();
        assert_eq!(e.field, "map");
        assert!(e.message.contains("Whom"), "{e}");
        let e = cols(&["Who"], "Who:nickname").unwrap_err();
        assert_eq!(e.field, "map");
        let e = cols(&["Who"], "Who").unwrap_err();
        assert_eq!(e.field, "map");
        let e = cols(&["Notes", "City"], "").unwrap_err();
        assert!(e.message.contains("no column gives"), "{e}");
        let e = cols(&["Email", "E-mail"], "").unwrap_err();
        assert!(e.message.contains("two columns go to `email`"), "{e}");
        let e = cols(&["Name", "name"], "").unwrap_err();
        assert_eq!(e.field, "file");
    }

    #[test]
    fn i3_bad_rows_are_refused_with_the_field_at_fault() {
        let c = cols(&["First name", "Last name", "Email", "Phone", "Status"], "").unwrap();
        let r = c.row(&["Grace", "Hopper", "", "", ""]).unwrap();
        assert_eq!(r.name.as_deref(), Some("Grace Hopper"));
        let e = c.row(&["", "", "not-an-email", "", ""]).unwrap_err();
        assert_eq!(e.field, "email");
        let e = c.row(&["A", "", "", "call me", ""]).unwrap_err();
        assert_eq!(e.field, "phone");
        let e = c.row(&["A", "", "", "", "maybe"]).unwrap_err();
        assert_eq!(e.field, "status");
        let e = c.row(&["", "", "", "", ""]).unwrap_err();
        assert_eq!(e.field, "name");
        let e = c.row(&["A", "B"]).unwrap_err();
        assert_eq!(e.field, "row");
        assert!(e.message.contains("2 cells where the header has 5"), "{e}");
        let only_email = c.row(&["", "", "x@example.com", "", ""]).unwrap();
        assert_eq!(only_email.display_name(), "x@example.com");
    }

    #[test]
    fn too_many_or_too_long_custom_columns_are_refused() {
        let many: Vec<String> = (0..=MAX_CUSTOM_COLUMNS).map(|i| format!("c{i}")).collect();
        let mut h: Vec<&str> = many.iter().map(String::as_str).collect();
        h.push("email");
        assert!(cols(&h, "").unwrap_err().message.contains("custom fields"));
        let long = "x".repeat(MAX_FIELD_NAME + 1);
        assert!(cols(&["email", &long], "").is_err());
        let c = cols(&["email", "Note"], "").unwrap();
        let big = "y".repeat(MAX_FIELD_VALUE + 1);
        assert_eq!(
            c.row(&["a@example.com", &big]).unwrap_err().field,
            "fields.Note"
        );
    }
}
