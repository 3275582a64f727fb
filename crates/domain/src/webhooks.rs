//! Outbound webhooks (I8): the events a subscription may name, and how each
//! delivery is signed.
//!
//! # Signature
//!
//! Every delivery carries `Leadteam-Signature: t=<unix seconds>,v1=<hex>`,
//! where `<hex>` is the HMAC-SHA256, keyed with the subscription's secret, of
//! the timestamp, a dot and the raw body (`"{t}.{body}"`), as Stripe signs its
//! own. A receiver recomputes it over the body as received, compares in
//! constant time, and refuses timestamps older than a few minutes (replays).
//! `Leadteam-Event-Id` names the event: a receiver that sees the same id twice
//! (a retry after a lost answer) handles it once.

use crate::secret::{constant_time_eq, hmac_sha256_hex};

/// The events a subscription may name.
pub const EVENTS: [&str; 9] = [
    "lead.created",
    "lead.assigned",
    "lead.reclaimed",
    "client.claimed",
    "client.delivered",
    "member.invited",
    "member.activated",
    "member.deactivated",
    "member.removed",
];

/// Whether `name` is an event a subscription may name.
pub fn is_event(name: &str) -> bool {
    EVENTS.contains(&name)
}

/// The `Leadteam-Signature` header of a delivery of `body` at `unix_secs`.
pub fn signature_header(secret: &[u8], unix_secs: i64, body: &[u8]) -> String {
    format!("t={unix_secs},v1={}", sign(secret, unix_secs, body))
}

fn sign(secret: &[u8], unix_secs: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix_secs}.").into_bytes();
    signed.extend_from_slice(body);
    hmac_sha256_hex(secret, &signed)
}

/// Checks a `Leadteam-Signature` header as a receiver would: the signature
/// matches and the timestamp is within `tolerance_secs` of `now_secs`.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_secs - t).abs() > tolerance_secs {
        return false;
    }
    let expected = sign(secret, t, body);
    v1.iter()
        .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_i8_a_signature_verifies_over_timestamp_and_body_only() {
        let h = signature_header(b"whsec", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify_signature(
            b"whsec",
            &h,
            b"{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            b"whsec",
            &h,
            b"{\"a\":2}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            b"other",
            &h,
            b"{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            b"whsec",
            &h,
            b"{\"a\":1}",
            1_700_001_000,
            300
        ));
    }
}
