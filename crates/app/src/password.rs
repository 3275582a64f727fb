//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), run on the
//! blocking pool so it never stalls the async threads.

use crate::error::AppError;
use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::OnceCell;

#[derive(Clone, Default)]
pub struct PasswordHasher {
    /// A hash of a random password, verified against when the email is
    /// unknown so both answers take the same time.
    dummy: Arc<OnceCell<String>>,
}

fn argon() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordHasher {
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(e.to_string()))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(argon()?
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// Spends the same work as a real verification and answers false.
    pub async fn verify_dummy(&self, password: &str) -> Result<bool, AppError> {
        let hash = self
            .dummy
            .get_or_try_init(|| async {
                let random: String = {
                    use rand::Rng;
                    rand::thread_rng()
                        .sample_iter(&rand::distributions::Alphanumeric)
                        .take(32)
                        .map(char::from)
                        .collect()
                };
                self.hash(&random).await
            })
            .await?
            .clone();
        self.verify(password, &hash).await?;
        Ok(false)
    }
}
