//! Password hashing: Argon2id with the OWASP parameters, run on a pool of dedicated
//! hashing threads, with legacy bcrypt hashes verified and upgraded, and a dummy
//! verification for unknown users so that "no such user" costs the same time as "wrong
//! password".
//!
//! The hashing threads run at a lower CPU priority (nice +10) than the async executor:
//! while a login storm keeps every core hashing, the executor still gets a core the moment
//! a request is ready, so the rest of the API keeps its latency. When nothing else runs,
//! hashing still has every core to itself.

use std::sync::{Arc, Mutex, PoisonError, mpsc};

use argon2::password_hash::{
    self,
    phc::{Output, ParamsString, Salt},
};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use clouddocs_domain::Password;
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

/// Hashing failed for a reason other than a wrong password
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The stored hash could not be parsed
    #[error("stored password hash is malformed")]
    MalformedHash,
    /// The hashing primitive failed
    #[error("password hashing failed")]
    Primitive,
    /// The blocking pool is gone (shutdown)
    #[error("password hashing pool is closed")]
    PoolClosed,
}

/// The outcome of a password verification
#[derive(Debug)]
pub enum Verification {
    /// Wrong password, or unknown user
    Invalid,
    /// Right password; `rehash` holds a new hash when the stored one used older parameters
    /// or a legacy algorithm
    Valid {
        /// The upgraded hash to store, if any
        rehash: Option<String>,
    },
}

/// Nice value of the hashing threads (0 is the executor's; higher yields to it)
const HASHING_NICENESS: i32 = 10;

/// Work for a hashing thread, given that thread's own Argon2 working memory
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords off the async executor, at most `permits` at a time, on
/// as many dedicated threads
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// OWASP's Argon2id recommendation: m=19 MiB, t=2, p=1
pub fn owasp_params() -> Params {
    Params::default()
}

impl PasswordHasher {
    /// A hasher running at most `max_concurrent` hashes at once (typically the core count)
    pub fn new(max_concurrent: usize) -> Result<Self, HashError> {
        let threads = max_concurrent.max(1);
        let jobs = spawn_workers(threads)?;
        Ok(Self {
            params: owasp_params(),
            permits: Arc::new(Semaphore::new(threads)),
            jobs,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // INVARIANT: a job is queued only with a permit held, so no job ever waits for a
        // thread: there are as many threads as permits.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::PoolClosed)?;
        let span = tracing::Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory: &mut Vec<Block>| {
                // The caller may have gone (request cancelled): nothing to tell it then.
                let _ = done.send(span.in_scope(|| work(memory)));
            }))
            .map_err(|_| HashError::PoolClosed)?;
        result.await.map_err(|_| HashError::PoolClosed)
    }

    /// Hashes a new password
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |memory| hash_blocking(&params, password.expose().as_bytes(), memory))
            .await?
    }

    /// Verifies `password` against `stored`; `None` (unknown user) runs the same Argon2
    /// computation against nothing and always answers `Invalid`, in the same time as a real
    /// verification
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        let params = self.params.clone();
        self.run(move |memory| verify_blocking(&params, &password, stored.as_deref(), memory))
            .await?
    }
}

/// Starts `count` hashing threads at a lower priority; they stop when every sender is gone
fn spawn_workers(count: usize) -> Result<mpsc::Sender<Job>, HashError> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("clouddocs-argon2-{n}"))
            .spawn(move || {
                lower_priority();
                // INVARIANT: the only Argon2 working memory of this thread, reused by every
                // job, so hashing allocates (and faults in) its 19 MiB once per thread.
                let mut memory: Vec<Block> = Vec::new();
                loop {
                    // The lock is held only while waiting for the next job, never while
                    // hashing.
                    let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    match job {
                        Ok(job) => job(&mut memory),
                        Err(mpsc::RecvError) => break,
                    }
                }
            })
            .map_err(|_| HashError::PoolClosed)?;
    }
    Ok(jobs)
}

/// Makes the calling thread yield the CPU to the executor (Linux: nice is per thread)
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(err) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICENESS)
    {
        tracing::warn!(error = %err, "cannot lower the hashing threads' priority");
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// Makes sure `memory` has exactly the blocks `params` need (allocated once per thread)
fn sized<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let blocks = params.block_count();
    if memory.len() != blocks {
        memory.clear();
        memory.resize(blocks, Block::default());
        // A stored hash with bigger parameters must not leave its memory behind.
        memory.shrink_to_fit();
    }
    memory.as_mut_slice()
}

/// Argon2id of `password` with a fresh random salt, in `memory`, as a PHC string (built
/// exactly as `argon2`'s own `hash_password_with_salt` builds it)
fn hash_blocking(
    params: &Params,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let salt_bytes = password_hash::try_generate_salt().map_err(|_| HashError::Primitive)?;
    let salt = Salt::new(&salt_bytes).map_err(|_| HashError::Primitive)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2(params)
        .hash_password_into_with_memory(password, &salt_bytes, &mut out, sized(memory, params))
        .map_err(|_| HashError::Primitive)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| HashError::Primitive)?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|_| HashError::Primitive)?),
    };
    Ok(phc.to_string())
}

/// The salt of the verification run for unknown users (its result is thrown away)
const DUMMY_SALT: &[u8; 16] = b"clouddocs-dummy!";

fn verify_blocking(
    params: &Params,
    password: &Password,
    stored: Option<&str>,
    memory: &mut Vec<Block>,
) -> Result<Verification, HashError> {
    let Some(stored) = stored else {
        // Same work as a real verification with the current parameters; the result is
        // ignored on purpose.
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let _ = argon2(params).hash_password_into_with_memory(
            password.expose().as_bytes(),
            DUMMY_SALT,
            &mut out,
            sized(memory, params),
        );
        return Ok(Verification::Invalid);
    };
    if stored.starts_with("$2") {
        return verify_bcrypt(params, password, stored, memory);
    }
    if stored.starts_with("pbkdf2_sha256$") {
        return verify_django_pbkdf2(params, password, stored, memory);
    }
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::MalformedHash)?;
    match argon2_matches(password.expose().as_bytes(), &parsed, memory)? {
        true => {
            let current = argon2::Params::try_from(&parsed).ok();
            let outdated = parsed.algorithm.as_str() != "argon2id"
                || current.is_none_or(|p| {
                    p.m_cost() != params.m_cost()
                        || p.t_cost() != params.t_cost()
                        || p.p_cost() != params.p_cost()
                });
            let rehash = if outdated {
                Some(hash_blocking(params, password.expose().as_bytes(), memory)?)
            } else {
                None
            };
            Ok(Verification::Valid { rehash })
        }
        false => Ok(Verification::Invalid),
    }
}

/// Recomputes a stored Argon2 hash with the caller's working memory and compares in
/// constant time. The algorithm, version and parameters come from the stored PHC string.
fn argon2_matches(
    password: &[u8],
    parsed: &PasswordHash,
    memory: &mut Vec<Block>,
) -> Result<bool, HashError> {
    let algorithm =
        Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| HashError::MalformedHash)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|_| HashError::MalformedHash)?,
        None => Version::V0x13,
    };
    let params = Params::try_from(parsed).map_err(|_| HashError::MalformedHash)?;
    // A tampered row must not make a login allocate gigabytes or spin for minutes.
    if params.m_cost() > 256 * 1024 || params.t_cost() > 16 || params.p_cost() > 8 {
        return Err(HashError::MalformedHash);
    }
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::MalformedHash);
    };
    let mut out = vec![0u8; expected.len()];
    let memory = sized(memory, &params);
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, memory)
        .map_err(|_| HashError::MalformedHash)?;
    Ok(out.as_slice().ct_eq(expected.as_bytes()).into())
}

fn verify_bcrypt(
    params: &Params,
    password: &Password,
    stored: &str,
    memory: &mut Vec<Block>,
) -> Result<Verification, HashError> {
    // bcrypt silently truncates at 72 bytes; refuse rather than accept a prefix.
    if password.expose().len() > 72 {
        return Ok(Verification::Invalid);
    }
    let cost = stored
        .get(4..6)
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(HashError::MalformedHash)?;
    if cost > MAX_BCRYPT_COST {
        return Err(HashError::MalformedHash);
    }
    match bcrypt::verify(password.expose(), stored) {
        Ok(true) => Ok(Verification::Valid {
            rehash: Some(hash_blocking(params, password.expose().as_bytes(), memory)?),
        }),
        Ok(false) => Ok(Verification::Invalid),
        Err(_) => Err(HashError::MalformedHash),
    }
}

/// Most PBKDF2 iterations a stored hash may ask for: Django's default is 1,000,000 (5.x);
/// a tampered row must not make one login spin for minutes
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// Highest bcrypt cost verified: 15 is about 2 s per attempt here; each step doubles it,
/// and a cost-31 row would hold a hashing thread for a day per sign-in attempt
const MAX_BCRYPT_COST: u32 = 15;

/// Whether `stored` is a hash CloudDocs can verify (and upgrade at the next sign-in): an
/// Argon2 PHC string, bcrypt (`$2a$`, `$2b$`, `$2y$`) or Django's `pbkdf2_sha256$…`.
/// Checks the form only; it never hashes.
pub fn is_importable_hash(stored: &str) -> Result<(), &'static str> {
    if let Some(rest) = stored
        .strip_prefix('$')
        .filter(|_| stored.starts_with("$2"))
    {
        let mut parts = rest.splitn(3, '$');
        let (variant, cost, body) = (parts.next(), parts.next(), parts.next());
        if !matches!(variant, Some("2a" | "2b" | "2y")) {
            return Err("bcrypt hashes must be $2a$, $2b$ or $2y$");
        }
        let cost_ok = cost
            .and_then(|c| c.parse::<u32>().ok())
            .is_some_and(|c| (4..=MAX_BCRYPT_COST).contains(&c));
        let body_ok = body.is_some_and(|b| b.len() == 53 && b.is_ascii());
        return if cost_ok && body_ok {
            Ok(())
        } else {
            Err("malformed bcrypt hash")
        };
    }
    if stored.starts_with("pbkdf2_sha256$") {
        return parse_django_pbkdf2(stored).map(|_| ());
    }
    if stored.starts_with("$argon2") {
        let parsed = PasswordHash::new(stored).map_err(|_| "malformed Argon2 PHC string")?;
        Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| "unknown Argon2 variant")?;
        let params = Params::try_from(&parsed).map_err(|_| "bad Argon2 parameters")?;
        if params.m_cost() > 256 * 1024 || params.t_cost() > 16 || params.p_cost() > 8 {
            return Err("Argon2 parameters beyond what CloudDocs verifies");
        }
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err("Argon2 hash without salt or output");
        }
        return Ok(());
    }
    Err("unsupported hash: expected Argon2 (PHC), bcrypt or pbkdf2_sha256 (Django)")
}

/// `pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>` → its parts
fn parse_django_pbkdf2(
    stored: &str,
) -> Result<(std::num::NonZeroU32, &str, Vec<u8>), &'static str> {
    use base64::Engine as _;
    let mut parts = stored.split('$');
    let (_, iterations, salt, key) = (parts.next(), parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return Err("malformed pbkdf2_sha256 hash");
    }
    let iterations = iterations
        .and_then(|i| i.parse::<u32>().ok())
        .filter(|i| (1..=MAX_PBKDF2_ITERATIONS).contains(i))
        .and_then(std::num::NonZeroU32::new)
        .ok_or("pbkdf2_sha256 iterations out of range")?;
    let salt = salt
        .filter(|s| !s.is_empty())
        .ok_or("pbkdf2_sha256 hash without salt")?;
    let key = key
        .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .filter(|k| k.len() == 32)
        .ok_or("pbkdf2_sha256 key is not 32 bytes of base64")?;
    Ok((iterations, salt, key))
}

/// Django's PBKDF2-HMAC-SHA256, verified in constant time by aws-lc-rs; upgraded to
/// Argon2id on success
fn verify_django_pbkdf2(
    params: &Params,
    password: &Password,
    stored: &str,
    memory: &mut Vec<Block>,
) -> Result<Verification, HashError> {
    let (iterations, salt, key) =
        parse_django_pbkdf2(stored).map_err(|_| HashError::MalformedHash)?;
    match aws_lc_rs::pbkdf2::verify(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt.as_bytes(),
        password.expose().as_bytes(),
        &key,
    ) {
        Ok(()) => Ok(Verification::Valid {
            rehash: Some(hash_blocking(params, password.expose().as_bytes(), memory)?),
        }),
        Err(_) => Ok(Verification::Invalid),
    }
}

#[cfg(test)]
#[path = "password_tests.rs"]
mod tests;
