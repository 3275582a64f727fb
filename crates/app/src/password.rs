//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), run on a few
//! dedicated threads (one per core) so it never stalls the async threads and
//! its 19 MiB blocks stay in the memory of those threads: a burst of
//! sign-ins queues for them instead of growing the process by 19 MiB per
//! sign-in in flight.

use crate::error::AppError;
use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{OnceCell, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, started on first use.
fn hashing_threads() -> Result<&'static Mutex<Sender<Job>>, AppError> {
    static POOL: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    if let Some(p) = POOL.get() {
        return Ok(p);
    }
    let (tx, rx) = channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let n = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    for i in 0..n {
        let rx: Arc<Mutex<Receiver<Job>>> = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = {
                        let guard = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        guard.recv()
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(POOL.get_or_init(|| Mutex::new(tx)))
}

/// Runs `f` on a hashing thread.
async fn on_hashing_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    hashing_threads()?
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .send(job)
        .map_err(|_| AppError::Internal("the hashing threads stopped".into()))?;
    rx.await
        .map_err(|_| AppError::Internal("a hashing thread stopped".into()))
}

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
        on_hashing_thread(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(e.to_string()))
        })
        .await?
    }

    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        on_hashing_thread(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(argon()?
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
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
