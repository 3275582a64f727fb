//! Hashing of opaque secrets (session tokens, invitation links, codes): only
//! the SHA-256 of a secret is ever stored.

use sha2::{Digest, Sha256};

/// Hex SHA-256 of a secret, as stored in the database.
pub fn token_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Equality that takes the same time whatever the inputs share.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

/// Why a signature header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    /// Not `sha256=<64 hex digits>` (for example `sha1=...`).
    Malformed,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "the signature header is missing",
            SignatureError::Malformed => {
                "the signature must be sha256=<hex HMAC-SHA256 of the body>"
            }
            SignatureError::Mismatch => "the signature does not match the body",
        })
    }
}

/// Hex HMAC-SHA256 of `body` with `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies a `sha256=<hex>` signature header over the raw body, in
/// constant time. Only SHA-256 is accepted.
pub fn verify_sha256_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed);
    }
    let expected = hmac_sha256_hex(secret, body);
    if constant_time_eq(expected.as_bytes(), hex.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    /// The known answer from GitHub's "Validating webhook deliveries" docs.
    #[test]
    fn r_i1_github_documented_hmac_known_answer() {
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(hmac_sha256_hex(secret, body), &sig[7..]);
        assert_eq!(verify_sha256_signature(secret, body, Some(sig)), Ok(()));
    }

    #[test]
    fn r_i1_missing_wrong_truncated_and_sha1_signatures_are_refused() {
        let secret = b"s3cret";
        let body = b"{\"name\":\"Ann\"}";
        let good = format!("sha256={}", hmac_sha256_hex(secret, body));
        assert_eq!(
            verify_sha256_signature(secret, body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_sha256_signature(secret, body, Some("")),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_sha256_signature(secret, body, Some(&good[..good.len() - 2])),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_sha256_signature(
                secret,
                body,
                Some("sha1=0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33")
            ),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_sha256_signature(b"other", body, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_sha256_signature(secret, b"{}", Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_sha256_signature(
                secret,
                body,
                Some(&good.to_uppercase().replace("SHA256", "sha256"))
            ),
            Ok(())
        );
    }
}
