//! Password hashing (argon2id). One run costs about 19 MiB and tens of milliseconds of a core, on
//! purpose; a stranger can ask for one with a single anonymous request. So every run goes
//! through one semaphore (`concurrency` at once), and at most `queue` more callers may wait for
//! it: past that, the caller is refused at once (`BUSY`) instead of piling up behind a flood.
//!
//! Each run also borrows its working memory from a pool (one buffer per permit, allocated once)
//! rather than allocating 19 MiB and freeing it: glibc then raises its mmap threshold past that
//! size and later runs, on ever new blocking threads, leave their blocks in per-thread arenas.
//! Peak memory of `passerelle serve` (debug build, 52 MiB idle) under 200 simultaneous logins:
//! 3.5 GiB with no bound, 333 MiB with the semaphore alone, 103 MiB with the pool as well.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use std::sync::Mutex;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

/// Hashes computed at once by default: 2 × 19 MiB, whatever the number of cores.
pub const DEFAULT_CONCURRENCY: u32 = 2;
/// Callers allowed to wait by default: about 64 × 58 ms ÷ 2 ≈ 2 s of waiting at worst (58 ms: a
/// check measured under load on 2 cores).
pub const DEFAULT_QUEUE: u32 = 64;

/// A hash of nothing anyone knows, checked when the account does not exist, so that the answer
/// costs the same whether it exists or not.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Bo1+fHDjWt5O7ynFbCqWtNuQyfCjW5aBfIIdO1ThcA";

#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    /// One permit per hash being computed.
    running: Arc<Semaphore>,
    /// One permit per caller computing or waiting: `concurrency + queue`.
    admitted: Arc<Semaphore>,
    /// Working memory of finished runs, for the next ones: never more than `concurrency`.
    memory: Mutex<Vec<Vec<Block>>>,
    runs: AtomicU64,
    active: AtomicUsize,
    peak: AtomicUsize,
}

/// A place among the callers allowed to hash; holding one, the caller waits for its turn.
pub struct Ticket {
    passwords: Passwords,
    _admitted: OwnedSemaphorePermit,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(DEFAULT_CONCURRENCY, DEFAULT_QUEUE)
    }
}

impl Passwords {
    pub fn new(concurrency: u32, queue: u32) -> Self {
        let concurrency = concurrency.max(1) as usize;
        Self {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(concurrency)),
                admitted: Arc::new(Semaphore::new(concurrency + queue as usize)),
                memory: Mutex::new(Vec::new()),
                runs: AtomicU64::new(0),
                active: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            }),
        }
    }

    /// A place in the queue, or `BUSY` when it is full. Taken before anything else is done for
    /// the caller, so a refused one has cost nothing.
    pub fn admit(&self) -> AppResult<Ticket> {
        let admitted = self
            .inner
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                AppError::Busy(
                    "trop de connexions en cours ; réessayer dans quelques secondes (too many sign-ins in progress, retry shortly)"
                        .into(),
                )
            })?;
        Ok(Ticket {
            passwords: self.clone(),
            _admitted: admitted,
        })
    }

    /// Hashes a new password (admission, then its turn).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.admit()?.hash(password).await
    }

    /// Argon2 runs computed so far (hashes and checks).
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::SeqCst)
    }

    /// The most runs ever computed at the same time.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }
}

impl Ticket {
    pub async fn hash(self, password: String) -> AppResult<String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        self.run(move |memory| hash_with(memory, password.as_bytes(), &salt))
            .await?
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    }

    /// Whether `password` matches `hash`; with no hash (no such account) a dummy is checked
    /// and the answer is false.
    pub async fn verify(self, password: String, hash: Option<String>) -> AppResult<bool> {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.to_string());
        let ok = self
            .run(move |memory| verify_with(memory, password.as_bytes(), &hash))
            .await?;
        Ok(ok && exists)
    }

    /// Waits for a permit, then computes on the blocking pool with pooled working memory. The
    /// permits go into the blocking task: a caller that gives up (client gone, timeout) cannot
    /// free a slot while its hash is still being computed.
    async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> AppResult<T> {
        let inner = self.passwords.inner.clone();
        let running = inner
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _held = (running, self);
            let now = inner.active.fetch_add(1, Ordering::SeqCst) + 1;
            inner.peak.fetch_max(now, Ordering::SeqCst);
            inner.runs.fetch_add(1, Ordering::SeqCst);
            let mut memory = inner
                .memory
                .lock()
                .map(|mut pool| pool.pop())
                .ok()
                .flatten()
                .unwrap_or_default();
            let out = f(&mut memory);
            if let Ok(mut pool) = inner.memory.lock() {
                pool.push(memory);
            }
            inner.active.fetch_sub(1, Ordering::SeqCst);
            out
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// The working memory `params` need; grown once, then reused (argon2 writes every block before
/// reading it, so what a previous run left there never matters).
fn blocks<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    &mut memory[..params.block_count()]
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), with the crate's default parameters.
fn hash_with(
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &[u8],
) -> argon2::password_hash::Result<String> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon.hash_password_into_with_memory(password, salt, &mut out, blocks(memory, &params))?;
    let salt = SaltString::encode_b64(salt)?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    }
    .to_string())
}

/// Checks a password against a PHC string with the parameters it names, as
/// `PasswordVerifier::verify_password` does, comparing in constant time.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    check(memory, password, phc).unwrap_or(false)
}

fn check(
    memory: &mut Vec<Block>,
    password: &[u8],
    phc: &str,
) -> argon2::password_hash::Result<bool> {
    let hash = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(hash.algorithm)?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&hash)?;
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        &mut out,
        blocks(memory, &params),
    )?;
    Ok(out.ct_eq(expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// Our pooled-memory hashing and checking agree with the crate's own, both ways.
    #[test]
    fn pooled_hashing_matches_the_crate() {
        let mut memory = Vec::new();
        let ours = hash_with(&mut memory, b"correct horse battery", b"0123456789abcdef").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"correct horse batterz", &parsed)
                .is_err()
        );
        let salt = SaltString::encode_b64(b"fedcba9876543210").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"another passphrase", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            theirs.split('$').take(4).collect::<Vec<_>>(),
            "same algorithm, version and parameters"
        );
        // The same buffer, reused: right, wrong, and a hash with other parameters.
        assert!(verify_with(&mut memory, b"another passphrase", &theirs));
        assert!(!verify_with(&mut memory, b"another passphrasf", &theirs));
        assert!(verify_with(&mut memory, b"correct horse battery", &ours));
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"small memory", &salt)
        .unwrap()
        .to_string();
        assert!(verify_with(&mut memory, b"small memory", &small));
        assert!(!verify_with(&mut memory, b"small memorz", &small));
        assert!(!verify_with(&mut memory, b"anything", "not a hash"));
        assert!(!verify_with(&mut memory, b"anything", DUMMY));
    }
}
