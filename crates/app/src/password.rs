//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), run on a few
//! dedicated threads (one per core) so it never stalls the async threads and
//! its 19 MiB blocks stay in the memory of those threads: a burst of
//! sign-ins queues for them instead of growing the process by 19 MiB per
//! sign-in in flight.

use crate::error::AppError;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
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
            .map_err(|e| {
                AppError::Internal(crate::Fault::new(
                    "cannot start the password hashing thread",
                    e,
                ))
            })?;
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

fn params() -> Result<Params, AppError> {
    Params::new(19 * 1024, 2, 1, None).map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("password hashing failed: {e}").into())
}

thread_local! {
    /// The 19 MiB of argon2 state, allocated once per hashing thread.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw argon2 output for `password` and `salt`, computed in this
/// thread's reused memory.
fn raw_hash(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> Result<Output, AppError> {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() != params.block_count() {
            *blocks = vec![Block::default(); params.block_count()];
        }
        Output::init_with(len, |out| {
            argon
                .hash_password_into_with_memory(password, salt, out, blocks.as_mut_slice())
                .map_err(|_| argon2::password_hash::Error::Password)
        })
        .map_err(internal)
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`.
fn hash_now(password: &[u8]) -> Result<String, AppError> {
    let params = params()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut raw = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut raw).map_err(internal)?;
    let hash = raw_hash(
        &argon,
        &params,
        password,
        salt_bytes,
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    }
    .to_string())
}

/// Whether `password` matches the PHC string `stored` (its own parameters).
fn verify_now(password: &[u8], stored: &str) -> Result<bool, AppError> {
    let parsed = PasswordHash::new(stored).map_err(internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(internal)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(internal)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(AppError::Internal(
            "a stored password hash without salt or hash".into(),
        ));
    };
    let mut raw = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut raw).map_err(internal)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let got = raw_hash(&argon, &params, password, salt_bytes, expected.len())?;
    // Output's equality is constant-time.
    Ok(got == expected)
}

impl PasswordHasher {
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        on_hashing_thread(move || hash_now(password.as_bytes())).await?
    }

    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        on_hashing_thread(move || verify_now(password.as_bytes(), &hash)).await?
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{hash_now, params, verify_now};
    use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
    use argon2::{Algorithm, Argon2, PasswordHash, Version};

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let ours = hash_now(b"correct horse").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let std = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(std.verify_password(b"correct horse", &parsed).is_ok());
        assert!(std.verify_password(b"wrong horse", &parsed).is_err());
        let theirs = std
            .hash_password(b"battery staple", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_now(b"battery staple", &theirs).unwrap());
        assert!(!verify_now(b"battery stapler", &theirs).unwrap());
        assert!(!verify_now(b"correct horse", &hash_now(b"correct horsf").unwrap()).unwrap());
    }
}
