//! Lead payloads as sources send them (I1): a flat JSON object or an HTML
//! form post, Facebook's leadgen events, Google Ads lead forms. Pure
//! parsing: the signature is checked before (see [`crate::secret`]), and the
//! lead is stored and routed after.
//!
//! # Which key wins
//!
//! A sender may name one detail several ways. The synonyms of each detail
//! are tried in this order (keys compare without case), and a key at the top
//! level of a JSON body wins over the same key inside its `fields` object:
//!
//! | detail | keys, first wins |
//! |---|---|
//! | name | `name`, `full_name`, `fullname`, then `first_name`/`firstname` + `last_name`/`lastname` |
//! | email | `email`, `email_address` |
//! | phone | `phone`, `phone_number`, `mobile`, `tel` |
//! | the source's lead id | `lead_id`, `external_id`, `id` |
//!
//! Nothing is lost: a synonym that lost to a better one, and every other
//! key, is kept as a custom field (an object or an array as its JSON). A
//! lead id longer than 200 characters is refused, naming its key: cut
//! short, it could not tell two leads apart.

use crate::error::FieldError;
use crate::validate::join_names;
use serde_json::Value;
use std::collections::BTreeMap;

/// A lead as a source delivered it, parsed from its wire format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lead {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// The source's own id of the lead (dedupes retries).
    pub source_lead_id: Option<String>,
    pub facebook_page_id: Option<String>,
    pub facebook_form_id: Option<String>,
    /// Facebook sent only ids: the details are to be fetched from the Graph API.
    pub awaiting_details: bool,
}

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON (or not the JSON expected): the parser's words.
    #[error("{0}")]
    Malformed(String),
    /// Readable, but a required part is missing or wrong.
    #[error("{0}")]
    Field(FieldError),
}

const NAME: &[&str] = &["name", "full_name", "fullname"];
const FIRST: &[&str] = &["first_name", "firstname"];
const LAST: &[&str] = &["last_name", "lastname"];
const EMAIL: &[&str] = &["email", "email_address"];
const PHONE: &[&str] = &["phone", "phone_number", "mobile", "tel"];
const LEAD_ID: &[&str] = &["lead_id", "external_id", "id"];

/// Longest custom field name and value kept.
const MAX_KEY: usize = 60;
const MAX_VALUE: usize = 1000;
/// Longest source lead id kept.
const MAX_LEAD_ID: usize = 200;

/// The key/value pairs of a delivery, top-level ones before nested ones.
#[derive(Debug, Default)]
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn push(&mut self, k: &str, v: String) {
        let v = v.trim().to_owned();
        if !v.is_empty() {
            self.0.push((k.to_owned(), v));
        }
    }

    /// Removes and gives the value of the first synonym present (the list's
    /// order first, then the pairs' order: top level before nested).
    fn take(&mut self, synonyms: &[&str]) -> Option<String> {
        self.take_named(synonyms).map(|(_, v)| v)
    }

    /// The pair of the first synonym present, with its key as sent.
    fn take_named(&mut self, synonyms: &[&str]) -> Option<(String, String)> {
        for s in synonyms {
            if let Some(i) = self.0.iter().position(|(k, _)| k.eq_ignore_ascii_case(s)) {
                return Some(self.0.remove(i));
            }
        }
        None
    }

    fn into_lead(mut self) -> Result<Lead, PayloadError> {
        let source_lead_id = match self.take_named(LEAD_ID) {
            Some((key, id)) => Some(lead_id(&key, id)?),
            None => None,
        };
        let mut lead = Lead {
            name: self.take(NAME),
            email: self.take(EMAIL),
            phone: self.take(PHONE),
            source_lead_id,
            ..Lead::default()
        };
        if lead.name.is_none() {
            let (first, last) = (self.take(FIRST), self.take(LAST));
            lead.name = join_names(first.as_deref(), last.as_deref());
        }
        for (k, v) in self.0 {
            let key: String = k.chars().take(MAX_KEY).collect();
            lead.fields
                .entry(key)
                .or_insert_with(|| v.chars().take(MAX_VALUE).collect());
        }
        Ok(lead)
    }
}

/// The source's id of a lead, sent as `key`: refused when longer than
/// [`MAX_LEAD_ID`] — cut short, two leads whose ids differ past the cut would
/// be taken for one, and the second dropped as its duplicate.
fn lead_id(key: &str, id: String) -> Result<String, PayloadError> {
    if id.chars().count() > MAX_LEAD_ID {
        return Err(PayloadError::Field(FieldError::new(
            key,
            format!(
                "must be at most {MAX_LEAD_ID} characters (it tells this lead apart from the source's others)"
            ),
        )));
    }
    Ok(id)
}

/// A value kept as a custom field: a scalar as text, an object or an array
/// as its JSON (nothing sent is dropped); nothing for `null`.
fn field_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Object(_) | Value::Array(_) => Some(v.to_string()),
        _ => text(v),
    }
}

/// A JSON scalar as text (objects and arrays are not a detail).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json(body: &[u8]) -> Result<Value, PayloadError> {
    serde_json::from_slice(body).map_err(|e| PayloadError::Malformed(e.to_string()))
}

/// A generic or website-form delivery: a JSON object (details at the top
/// level or in a `fields` object) or an `application/x-www-form-urlencoded`
/// form post.
pub fn parse_generic(content_type: Option<&str>, body: &[u8]) -> Result<Lead, PayloadError> {
    let mut pairs = Pairs::default();
    let ct = content_type
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            pairs.push(&k, v.into_owned());
        }
        return pairs.into_lead();
    }
    let Value::Object(obj) = json(body)? else {
        return Err(PayloadError::Field(FieldError::new(
            "body",
            "must be a JSON object",
        )));
    };
    let mut nested = Pairs::default();
    for (k, v) in &obj {
        if let ("fields", Value::Object(f)) = (k.as_str(), v) {
            for (fk, fv) in f {
                if let Some(t) = field_text(fv) {
                    nested.push(fk, t);
                }
            }
        } else if let Some(t) = field_text(v) {
            pairs.push(k, t);
        }
    }
    pairs.0.extend(nested.0);
    pairs.into_lead()
}

/// Facebook's `field_data`: `[{name, values: [..]}]`.
fn facebook_fields(v: &Value) -> Pairs {
    let mut pairs = Pairs::default();
    for f in v.as_array().into_iter().flatten() {
        let (Some(name), Some(values)) = (
            f.get("name").and_then(Value::as_str),
            f.get("values").and_then(Value::as_array),
        ) else {
            continue;
        };
        let joined: Vec<String> = values.iter().filter_map(text).collect();
        pairs.push(name, joined.join(", "));
    }
    pairs
}

/// A Graph API lead (`GET /{leadgen_id}`): its `field_data` as a lead (the
/// ids are kept by the caller).
pub fn parse_facebook_details(body: &[u8]) -> Result<Lead, PayloadError> {
    let v = json(body)?;
    match v.get("field_data") {
        Some(fd) => {
            let mut lead = facebook_fields(fd).into_lead()?;
            lead.facebook_form_id = v.get("form_id").and_then(text);
            Ok(lead)
        }
        None => Err(PayloadError::Field(FieldError::new(
            "field_data",
            "is missing from the Graph API answer",
        ))),
    }
}

/// The name in a Graph API answer about a page or a lead form
/// (`{"id": "...", "name": "..."}`), trimmed and at most 200 characters.
pub fn parse_graph_name(body: &[u8]) -> Option<String> {
    let v = json(body).ok()?;
    let name = v.get("name")?.as_str()?.trim();
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

/// A page or a lead form in a Graph API list, with the page's own access
/// token when the list gave one (`me/accounts` of a user token does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    pub id: String,
    pub name: Option<String>,
    pub access_token: Option<String>,
}

/// One node (`{"id": "...", "name": "..."}`); `None` without an id.
pub fn parse_graph_node(v: &Value) -> Option<GraphNode> {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    Some(GraphNode {
        id: text("id")?.chars().take(100).collect(),
        name: text("name").map(|n| n.chars().take(200).collect()),
        access_token: text("access_token").map(str::to_owned),
    })
}

/// The nodes of a Graph API list (`{"data": [...], "paging": ...}`): `None`
/// when the answer is not such a list; entries without an id are left out.
pub fn parse_graph_list(body: &[u8]) -> Option<Vec<GraphNode>> {
    let v = json(body).ok()?;
    let data = v.get("data")?.as_array()?;
    Some(data.iter().filter_map(parse_graph_node).collect())
}

/// A Facebook Lead Ads webhook: every `leadgen` change of every entry. A
/// change with `field_data` is a complete lead; one with ids only (what
/// Facebook sends) is marked awaiting details.
pub fn parse_facebook(body: &[u8]) -> Result<Vec<Lead>, PayloadError> {
    let v = json(body)?;
    let mut out = Vec::new();
    for entry in v
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if change.get("field").and_then(Value::as_str) != Some("leadgen") {
                continue;
            }
            let Some(value) = change.get("value") else {
                continue;
            };
            let Some(leadgen_id) = value.get("leadgen_id").and_then(text) else {
                return Err(PayloadError::Field(FieldError::new(
                    "entry.changes.value.leadgen_id",
                    "is required",
                )));
            };
            let mut lead = match value.get("field_data") {
                Some(fd) => facebook_fields(fd).into_lead()?,
                None => Lead {
                    awaiting_details: true,
                    ..Lead::default()
                },
            };
            lead.source_lead_id = Some(lead_id("entry.changes.value.leadgen_id", leadgen_id)?);
            lead.facebook_page_id = value
                .get("page_id")
                .and_then(text)
                .or_else(|| entry.get("id").and_then(text));
            lead.facebook_form_id = value.get("form_id").and_then(text);
            out.push(lead);
        }
    }
    Ok(out)
}

/// A Google Ads lead form delivery: the `google_key` it carries (checked by
/// the caller against the source's key) and the lead.
pub fn parse_google(body: &[u8]) -> Result<(Option<String>, Lead), PayloadError> {
    let v = json(body)?;
    if !v.is_object() {
        return Err(PayloadError::Malformed(
            "the body is not a Google lead form payload".into(),
        ));
    }
    let mut pairs = Pairs::default();
    for c in v
        .get("user_column_data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = c
            .get("column_id")
            .and_then(Value::as_str)
            .or_else(|| c.get("column_name").and_then(Value::as_str))
            .unwrap_or_default();
        let key = match name {
            "FULL_NAME" => "name".to_owned(),
            "FIRST_NAME" => "first_name".to_owned(),
            "LAST_NAME" => "last_name".to_owned(),
            "EMAIL" => "email".to_owned(),
            "PHONE_NUMBER" => "phone".to_owned(),
            other => other.to_ascii_lowercase(),
        };
        if let Some(t) = c.get("string_value").and_then(text) {
            pairs.push(&key, t);
        }
    }
    let mut lead = pairs.into_lead()?;
    lead.source_lead_id = match v.get("lead_id").and_then(text) {
        Some(id) => Some(lead_id("lead_id", id)?),
        None => None,
    };
    if let Some(f) = v.get("form_id").and_then(text) {
        lead.fields.insert("google_form_id".into(), f);
    }
    if let Some(c) = v.get("campaign_id").and_then(text) {
        lead.fields.insert("google_campaign_id".into(), c);
    }
    if v.get("is_test").and_then(Value::as_bool) == Some(true) {
        lead.fields.insert("google_test_lead".into(), "true".into());
    }
    let key = v
        .get("google_key")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((key, lead))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn generic(body: &str) -> Lead {
        parse_generic(Some("application/json"), body.as_bytes()).unwrap()
    }

    #[test]
    fn a_graph_list_gives_its_nodes_and_a_non_list_gives_none() {
        let body = br#"{"data":[{"id":"1","name":" Acme Paris ","access_token":"EAAp"},
            {"name":"no id"},{"id":"2"}],"paging":{}}"#;
        let nodes = parse_graph_list(body).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].name.as_deref(), Some("Acme Paris"));
        assert_eq!(nodes[0].access_token.as_deref(), Some("EAAp"));
        assert_eq!(
            (nodes[1].id.as_str(), nodes[1].name.as_deref()),
            ("2", None)
        );
        assert_eq!(parse_graph_list(br#"{"id":"1","name":"x"}"#), None);
        assert_eq!(parse_graph_list(b"not json"), None);
    }

    #[test]
    fn synonyms_win_in_the_documented_order_whatever_the_key_order() {
        let a = generic(r#"{"full_name":"Full","name":"Plain","fullname":"F2"}"#);
        assert_eq!(a.name.as_deref(), Some("Plain"));
        assert_eq!(a.fields.get("full_name").map(String::as_str), Some("Full"));
        let b = generic(r#"{"tel":"1","mobile":"2","phone_number":"3"}"#);
        assert_eq!(b.phone.as_deref(), Some("3"));
        let c = generic(r#"{"id":"x","external_id":"y"}"#);
        assert_eq!(c.source_lead_id.as_deref(), Some("y"));
    }

    #[test]
    fn a_top_level_key_wins_over_the_same_key_in_fields() {
        let l =
            generic(r#"{"fields":{"email":"nested@x.test","city":"Pune"},"email":"top@x.test"}"#);
        assert_eq!(l.email.as_deref(), Some("top@x.test"));
        assert_eq!(l.fields.get("city").map(String::as_str), Some("Pune"));
        // A nested detail is used when the top level lacks it.
        let n = generic(r#"{"fields":{"EMAIL":"nested@x.test"}}"#);
        assert_eq!(n.email.as_deref(), Some("nested@x.test"));
    }

    #[test]
    fn first_and_last_names_join_when_no_full_name_is_given() {
        let l = generic(r#"{"last_name":"Rao","first_name":"Bea"}"#);
        assert_eq!(l.name.as_deref(), Some("Bea Rao"));
    }

    #[test]
    fn form_posts_and_bad_bodies() {
        let l = parse_generic(
            Some("application/x-www-form-urlencoded"),
            b"name=Bea+Rao&email=bea%40x.test&note=hi",
        )
        .unwrap();
        assert_eq!(l.name.as_deref(), Some("Bea Rao"));
        assert_eq!(l.fields.get("note").map(String::as_str), Some("hi"));
        assert!(matches!(
            parse_generic(None, b"{"),
            Err(PayloadError::Malformed(_))
        ));
        assert!(matches!(
            parse_generic(None, b"[1]"),
            Err(PayloadError::Field(_))
        ));
    }

    #[test]
    fn facebook_ids_only_await_details() {
        let leads = parse_facebook(
            br#"{"entry":[{"id":"p1","changes":[{"field":"leadgen","value":{"leadgen_id":"L1","form_id":"F1"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(leads.len(), 1);
        assert!(leads[0].awaiting_details);
        assert_eq!(leads[0].facebook_page_id.as_deref(), Some("p1"));
        assert_eq!(leads[0].source_lead_id.as_deref(), Some("L1"));
        let full = parse_facebook_details(
            br#"{"id":"L1","field_data":[{"name":"full_name","values":["Bea"]},{"name":"email","values":["b@x.test"]}]}"#,
        )
        .unwrap();
        assert_eq!(full.name.as_deref(), Some("Bea"));
        assert_eq!(full.email.as_deref(), Some("b@x.test"));
    }

    #[test]
    fn google_columns_become_details() {
        let (key, lead) = parse_google(
            br#"{"lead_id":"G1","google_key":"k","user_column_data":[{"column_id":"FULL_NAME","string_value":"Bea"},{"column_id":"CITY","string_value":"Pune"}],"is_test":true}"#,
        )
        .unwrap();
        assert_eq!(key.as_deref(), Some("k"));
        assert_eq!(lead.name.as_deref(), Some("Bea"));
        assert_eq!(lead.fields.get("city").map(String::as_str), Some("Pune"));
        assert_eq!(lead.source_lead_id.as_deref(), Some("G1"));
    }
}
