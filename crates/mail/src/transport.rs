//! What a transport is given, and how an outbox row becomes a message.

use leadteam_store::outbox::Claimed;
use lettre::Message;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, UNIX_EPOCH};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A message ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox id.
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    /// Sender and recipients for the SMTP envelope.
    pub envelope: Envelope,
    /// The RFC 5322 message: headers and encoded body, CRLF line ends.
    pub raw: Vec<u8>,
}

/// A failed send; the worker records it and tries again later.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Sends messages somewhere.
pub trait Transport: Send + Sync {
    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), SendError>>;
    /// For logs: where messages go (never a password).
    fn describe(&self) -> String;
}

/// Builds the message of an outbox row: plain text, UTF-8, from `from`. The
/// Message-ID is derived from the outbox id, so a message sent again after a
/// crash can be recognised as the same one.
pub fn compose(from: &Mailbox, m: &Claimed) -> Result<Outgoing, SendError> {
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| SendError(format!("invalid recipient {:?}: {e}", m.to)))?;
    let created = UNIX_EPOCH + Duration::from_millis(u64::try_from(m.created_at.0).unwrap_or(0));
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .date(created)
        .message_id(Some(format!(
            "<outbox.{}.{}@{}>",
            m.id,
            m.created_at.0,
            from.email.domain()
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body_text.clone())
        .map_err(|e| SendError(format!("cannot build the message: {e}")))?;
    Ok(Outgoing {
        id: m.id,
        to: m.to.clone(),
        subject: m.subject.clone(),
        body_text: m.body_text.clone(),
        envelope: message.envelope().clone(),
        raw: message.formatted(),
    })
}
