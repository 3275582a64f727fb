//! Outgoing mail. Use cases queue messages in the outbox (in their own
//! transaction, `leadteam_store::outbox::enqueue`); the [`Mailer`] worker
//! claims due messages, sends each one with a [`Transport`] and records the
//! delivery or the failure in the database, so it survives restarts and
//! several server nodes share the work without sending a message twice.
//!
//! Transports: [`SmtpTransport`] (lettre) when an SMTP URL is configured,
//! otherwise [`FileTransport`], which writes each message as an RFC 5322
//! `.eml` file and logs its links so a first-time user can follow them.

mod file;
mod links;
mod smtp;
mod transport;
mod worker;

pub use file::FileTransport;
pub use lettre::message::Mailbox;
pub use links::{first_link, links};
pub use smtp::{SmtpSettings, SmtpTransport, TlsMode};
pub use transport::{BoxFuture, Outgoing, SendError, Transport, compose};
pub use worker::{Mailer, MailerConfig, MintFn, Now, RetryPolicy, Secrets};

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The sender used when none is configured.
pub const DEFAULT_FROM: &str = "leadteam <no-reply@localhost>";

/// A configuration error (bad SMTP URL, bad sender, unusable mail folder).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Config(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Parses a sender like `leadteam <no-reply@example.com>` or `no-reply@example.com`.
pub fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse::<Mailbox>()
        .map_err(|e| MailError::Config(format!("invalid mail sender {from:?}: {e}")))
}

/// The transport for a configuration: SMTP when `smtp_url` is set, else
/// `.eml` files in `<data_dir>/mail`.
pub fn transport_for(
    smtp_url: Option<&str>,
    data_dir: &Path,
) -> Result<Arc<dyn Transport>, MailError> {
    match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => {
            let settings = SmtpSettings::parse(url)?;
            Ok(Arc::new(SmtpTransport::new(
                &settings,
                Duration::from_secs(30),
            )?))
        }
        None => Ok(Arc::new(FileTransport::new(data_dir.join("mail"))?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sender_parses_and_a_bad_one_is_refused() {
        let from = parse_from(DEFAULT_FROM).map(|m| m.to_string());
        assert_eq!(from.ok().as_deref(), Some(DEFAULT_FROM));
        assert!(parse_from("not an address").is_err());
    }

    #[test]
    fn without_smtp_mail_goes_to_files_under_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("leadteam-mail-unit-{}", std::process::id()));
        let t = transport_for(Some("  "), &dir).map(|t| t.describe());
        assert_eq!(
            t.ok(),
            Some(format!("files in {}", dir.join("mail").display()))
        );
        assert!(dir.join("mail").is_dir());
        let _ = std::fs::remove_dir_all(&dir);
        let t = transport_for(Some("smtp://127.0.0.1:2525"), &dir).map(|t| t.describe());
        assert_eq!(t.ok().as_deref(), Some("smtp://127.0.0.1:2525 (plain)"));
        assert!(!dir.exists());
    }
}
