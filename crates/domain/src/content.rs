//! Client groups and content (P5, P6, P8): the kinds of content, the files a
//! member may upload (size and type limits, checked against the bytes), and
//! the parsing of their texts.

use crate::error::FieldError;

/// What a piece of content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A message template: a subject and a text.
    Template,
    /// An uploaded file.
    File,
    /// A page: a title and a markdown body.
    Page,
}

impl ContentKind {
    pub const ALL: [ContentKind; 3] = [ContentKind::Template, ContentKind::File, ContentKind::Page];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Template => "template",
            ContentKind::File => "file",
            ContentKind::Page => "page",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        ContentKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| FieldError::new(field, "must be one of template, file, page"))
    }
}

/// Largest file accepted (10 MiB).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Longest title or subject, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest template text or page body, in characters.
pub const MAX_BODY_CHARS: usize = 100_000;
/// Longest group description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// A file type on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    /// The media type, as stored and served.
    pub mime: &'static str,
    /// The usual file name extension.
    pub ext: &'static str,
    /// What the first bytes of a file of this type look like.
    magic: Magic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Magic {
    Prefix(&'static [u8]),
    Gif,
    Webp,
    Text,
}

const ZIP: &[u8] = b"PK\x03\x04";

/// Every type a file may have.
pub const FILE_TYPES: [FileType; 9] = [
    FileType {
        mime: "application/pdf",
        ext: "pdf",
        magic: Magic::Prefix(b"%PDF-"),
    },
    FileType {
        mime: "image/png",
        ext: "png",
        magic: Magic::Prefix(b"\x89PNG\r\n\x1a\n"),
    },
    FileType {
        mime: "image/jpeg",
        ext: "jpg",
        magic: Magic::Prefix(b"\xff\xd8\xff"),
    },
    FileType {
        mime: "image/gif",
        ext: "gif",
        magic: Magic::Gif,
    },
    FileType {
        mime: "image/webp",
        ext: "webp",
        magic: Magic::Webp,
    },
    FileType {
        mime: "text/plain",
        ext: "txt",
        magic: Magic::Text,
    },
    FileType {
        mime: "text/csv",
        ext: "csv",
        magic: Magic::Text,
    },
    FileType {
        mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ext: "docx",
        magic: Magic::Prefix(ZIP),
    },
    FileType {
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ext: "xlsx",
        magic: Magic::Prefix(ZIP),
    },
];

/// How many leading bytes `FileType::matches` looks at.
pub const SNIFF_BYTES: usize = 16;

impl FileType {
    /// The allow-listed type named by a `Content-Type` value (parameters
    /// such as `charset` are ignored), or `None`.
    pub fn from_content_type(content_type: &str) -> Option<FileType> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        FILE_TYPES.into_iter().find(|t| t.mime == essence)
    }

    /// The media types accepted, for error messages.
    pub fn accepted() -> Vec<&'static str> {
        FILE_TYPES.iter().map(|t| t.mime).collect()
    }

    /// Whether the first bytes of a file (at least `SNIFF_BYTES` when the file
    /// is that long) are those of this type, so that a file cannot claim a
    /// type it does not have.
    pub fn matches(&self, head: &[u8]) -> bool {
        match self.magic {
            Magic::Prefix(p) => head.starts_with(p),
            Magic::Gif => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
            Magic::Webp => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
            // Text is anything without NUL bytes in its first bytes (UTF-16
            // text is not accepted: save it as UTF-8).
            Magic::Text => !head.contains(&0),
        }
    }
}

/// A file name safe to store and to send back in `Content-Disposition`: the
/// last path segment, without control characters, quotes or backslashes, at
/// most 200 characters; `None` when nothing is left.
pub fn safe_file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .take(200)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_owned())
    }
}

/// A text of several lines (a template, a page body, a description): at most
/// `max` characters; no control characters other than newline, carriage
/// return and tab. Kept as written (not trimmed) except for trailing blanks.
pub fn long_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    if raw.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.trim_end().to_owned())
}

/// A colour as `#rrggbb` (lower-cased).
pub fn color(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_lowercase();
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new(
            field,
            "must be a colour like #1a7f37 (# and six hex digits)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_ignores_parameters_and_case() {
        assert_eq!(
            FileType::from_content_type("Text/Plain; charset=utf-8").map(|t| t.ext),
            Some("txt")
        );
        assert!(FileType::from_content_type("image/svg+xml").is_none());
        assert!(FileType::from_content_type("text/html").is_none());
        assert!(FileType::from_content_type("").is_none());
        assert_eq!(FileType::accepted().len(), 9);
    }

    #[test]
    fn the_bytes_must_match_the_declared_type() {
        let png = FileType::from_content_type("image/png");
        assert!(png.is_some_and(|t| t.matches(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")));
        assert!(png.is_some_and(|t| !t.matches(b"<html><script>")));
        let webp = FileType::from_content_type("image/webp");
        assert!(webp.is_some_and(|t| t.matches(b"RIFF\x10\0\0\0WEBPVP8 ")));
        assert!(webp.is_some_and(|t| !t.matches(b"RIFF\x10\0\0\0WAVEfmt ")));
        let txt = FileType::from_content_type("text/csv");
        assert!(txt.is_some_and(|t| t.matches(b"name,email\n")));
        assert!(txt.is_some_and(|t| !t.matches(b"n\0a\0m\0e\0")));
        let pdf = FileType::from_content_type("application/pdf");
        assert!(pdf.is_some_and(|t| t.matches(b"%PDF-1.7\n")));
    }

    #[test]
    fn file_names_lose_paths_and_dangerous_characters() {
        assert_eq!(
            safe_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            safe_file_name("C:\\x\\price \"list\".pdf").as_deref(),
            Some("price list.pdf")
        );
        assert_eq!(safe_file_name("..").as_deref(), None);
        assert_eq!(safe_file_name("a\r\nb.txt").as_deref(), Some("ab.txt"));
    }

    #[test]
    fn texts_and_colours_name_the_field() {
        assert_eq!(
            long_text("body", "Hi\n\tthere\n\n", 20),
            Ok("Hi\n\tthere".into())
        );
        assert_eq!(
            long_text("body", "x".repeat(21).as_str(), 20).map_err(|e| e.field),
            Err("body".into())
        );
        assert!(long_text("body", "a\u{0}b", 20).is_err());
        assert_eq!(color("color", " #1A7F37 "), Ok("#1a7f37".into()));
        assert_eq!(
            color("color", "red").map_err(|e| e.field),
            Err("color".into())
        );
        assert_eq!(ContentKind::parse("kind", "page"), Ok(ContentKind::Page));
        assert!(ContentKind::parse("kind", "video").is_err());
    }
}
