//! Form bodies with repeated names (checkboxes): the pairs as sent, read
//! by name.

use serde::Deserialize;

/// A urlencoded form as its `(name, value)` pairs.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(super) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name` ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `name` was sent (a ticked checkbox).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every value of `name` that is a number (ids of ticked boxes).
    pub fn ids(&self, name: &str) -> Vec<i64> {
        self.all(name)
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_are_all_kept() {
        let f: Fields =
            serde_urlencoded::from_str("_csrf=x&name=Ann&p=a&p=b&id=3&id=x&id=5").unwrap();
        assert_eq!(f.get("name"), "Ann");
        assert_eq!(f.get("nope"), "");
        assert_eq!(f.all("p"), vec!["a", "b"]);
        assert_eq!(f.ids("id"), vec![3, 5]);
        assert!(f.has("p") && !f.has("q"));
    }
}
