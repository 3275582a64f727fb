//! The mail sink of a test app: what the worker actually delivered (the
//! `.eml` files of the File transport), read back as plain text.

use crate::TestApp;
use base64::Engine as _;
use std::time::{Duration, Instant};

/// A delivered message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The outbox id (from the Message-ID the worker sets), when there is one.
    pub id: Option<i64>,
    pub message_id: String,
    pub from: String,
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The text body, with `\n` line ends.
    pub body: String,
}

/// The first http(s) link in `body`.
pub fn link_in(body: &str) -> Option<String> {
    leadteam_mail::first_link(body).map(str::to_owned)
}

/// Every link in a mail body.
pub fn links_in(body: &str) -> Vec<String> {
    leadteam_mail::links(body)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

impl TestApp {
    /// Wakes the mail worker (as a use case does after queuing mail).
    pub fn wake_mailer(&self) {
        if let Some(w) = &self.mail_waker {
            w.notify_one();
        }
    }

    /// Every message delivered so far, oldest first.
    pub async fn mails(&self) -> Vec<Mail> {
        read_mail_dir(&self.mail_dir)
    }

    /// Waits for the oldest message to `to` that no earlier call returned (so
    /// after a resend, calling it again gives the new message). Panics after
    /// `timeout`, listing what was delivered.
    pub async fn wait_for_mail(&self, to: &str, timeout: Duration) -> Mail {
        let deadline = Instant::now() + timeout;
        loop {
            self.wake_mailer();
            let mails = self.mails().await;
            {
                let mut taken = self.mails_taken.lock().expect("mail lock");
                if let Some(m) = mails
                    .iter()
                    .find(|m| m.to.eq_ignore_ascii_case(to) && !taken.contains(&m.message_id))
                {
                    taken.insert(m.message_id.clone());
                    return m.clone();
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "no new mail to {to} within {timeout:?}; delivered: {:#?}",
                    mails
                        .iter()
                        .map(|m| (&m.to, &m.subject))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Reads every `<id>.eml` in `dir`, by id.
pub fn read_mail_dir(dir: &std::path::Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(i64, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".eml")?.parse::<i64>().ok()?;
            Some((id, e.path()))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| std::fs::read(&p).ok())
        .map(|raw| parse_eml(&raw).expect("a delivered .eml parses"))
        .collect()
}

/// Parses a plain-text RFC 5322 message as the worker writes it (headers,
/// RFC 2047 subject, 7bit / 8bit / quoted-printable / base64 body).
pub fn parse_eml(raw: &[u8]) -> Option<Mail> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    // Unfold continuation lines.
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |k: &str| {
        headers
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    };
    let message_id = get("message-id").unwrap_or_default();
    let id = message_id
        .trim_start_matches('<')
        .strip_prefix("outbox.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse().ok());
    let body = match get("content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .ok()?,
            )
            .ok()?
        }
        "quoted-printable" => String::from_utf8(decode_qp(body)?).ok()?,
        _ => body.to_owned(),
    };
    Some(Mail {
        id,
        message_id,
        from: decode_words(&get("from").unwrap_or_default()),
        to: address_of(&get("to")?),
        subject: decode_words(&get("subject").unwrap_or_default()),
        body: body.replace("\r\n", "\n"),
    })
}

fn address_of(v: &str) -> String {
    match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v[a + 1..b].to_owned(),
        _ => v.trim().to_owned(),
    }
}

fn decode_qp(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'=' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`);
/// white space between two encoded words is dropped.
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let Some((word, after)) = encoded_word(&rest[start..]) else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            last_was_word = false;
            continue;
        };
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        out.push_str(&word);
        rest = after;
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

fn encoded_word(s: &str) -> Option<(String, &str)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (enc, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let data = &inner[..end];
    let bytes = match enc.to_ascii_lowercase().as_str() {
        "b" => base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()?,
        "q" => decode_qp(&data.replace('_', " "))?,
        _ => return None,
    };
    Some((String::from_utf8(bytes).ok()?, &inner[end + 2..]))
}
