//! Secrets sent by mail — invitation links, account-deletion codes, sign-up
//! links — are minted when their message leaves, not when it is queued: the
//! use case queues the text with `outbox::SECRET` where the secret goes and
//! a reference to the row it belongs to, and the mail worker calls [`mint`]
//! right before sending. Only hashes are ever at rest; a message whose row
//! is gone meanwhile (an invitation cancelled) is not sent.

use crate::App;
use crate::auth::random_token;
use crate::error::AppError;
use leadteam_domain::secret::token_hash;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use leadteam_store::{accounts, invitations, signups};
use std::future::Future;
use std::pin::Pin;

/// What a secret is for (the `purpose` of `outbox::SecretRef`).
pub const INVITATION: &str = "invitation";
pub const ACCOUNT_DELETION: &str = "account_deletion";
pub const SIGNUP: &str = "signup";

/// An unusable hash, stored until the first secret is minted: no token
/// hashes to it (it is not hex).
pub(crate) fn placeholder_hash() -> String {
    format!("unsent:{}", random_token())
}

/// Mints the secret of `purpose` for row `id`, stores its hash and gives
/// the secret; `None` when the row is gone.
pub async fn mint(app: &App, purpose: &str, id: i64) -> Result<Option<String>, AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let minted = match purpose {
        INVITATION => {
            let token = random_token();
            let expires = now.plus_millis(app.config.invite_ttl_ms);
            invitations::set_token(&mut tx, MemberId(id), &token_hash(&token), expires)
                .await?
                .then_some(token)
        }
        ACCOUNT_DELETION => {
            let code = crate::account::deletion_code();
            let expires = now.plus_millis(crate::account::DELETION_CODE_TTL_MS);
            accounts::set_deletion_code_hash(&mut tx, AccountId(id), &token_hash(&code), expires)
                .await?
                .then_some(code)
        }
        SIGNUP => {
            let token = random_token();
            signups::set_token(&mut tx, id, &token_hash(&token), expiry(app, now))
                .await?
                .then_some(token)
        }
        _ => None,
    };
    tx.commit().await?;
    Ok(minted)
}

/// When a sign-up link minted now stops working.
fn expiry(app: &App, now: Timestamp) -> Timestamp {
    now.plus_millis(app.config.invite_ttl_ms)
}

/// [`mint`] as the mail worker calls it (the server and the testkit wrap it
/// in `leadteam_mail::Secrets`).
pub fn mint_boxed(
    app: &App,
    purpose: String,
    id: i64,
) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send>> {
    let app = app.clone();
    Box::pin(async move {
        mint(&app, &purpose, id)
            .await
            .map_err(|e| format!("cannot mint the {purpose} secret: {e}"))
    })
}
