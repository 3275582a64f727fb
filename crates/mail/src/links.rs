//! Finding the links in a plain-text body.

/// Every `http://` or `https://` link in `text`, in order. A link ends at
/// white space, a quote or an angle bracket; trailing punctuation of the
/// sentence (`.`, `,`, `)` ...) is not part of it.
pub fn links(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = next_scheme(rest) {
        let from = offset + start;
        let tail = &text[from..];
        let len = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(tail.len());
        let link = tail[..len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        let rest_of_link = link
            .strip_prefix("https://")
            .or_else(|| link.strip_prefix("http://"))
            .unwrap_or_default();
        if !rest_of_link.is_empty() {
            out.push(link);
        }
        offset = from + len.max(1);
        rest = &text[offset..];
    }
    out
}

/// The first link in `text`.
pub fn first_link(text: &str) -> Option<&str> {
    links(text).into_iter().next()
}

fn next_scheme(s: &str) -> Option<usize> {
    match (s.find("http://"), s.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_and_drops_sentence_punctuation() {
        let body = "Hello,\nAccept: https://x.example/invite/abc_DEF-1?x=1&y=2.\n(or http://127.0.0.1:8080/a), <https://b.example/c>";
        assert_eq!(
            links(body),
            vec![
                "https://x.example/invite/abc_DEF-1?x=1&y=2",
                "http://127.0.0.1:8080/a",
                "https://b.example/c"
            ]
        );
        assert_eq!(first_link("no link here, http:// alone"), None);
        assert_eq!(
            first_link("ünïcode https://ü.example/ä"),
            Some("https://ü.example/ä")
        );
    }
}
