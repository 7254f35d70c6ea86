//! The machine's Argon2id ceiling: every core verifying in a loop, each thread reusing its
//! own memory, with the parameters CloudDocs uses (m=19 MiB, t=2, p=1). The login benchmark
//! is judged against this number.
//!
//!     cargo run --release -p clouddocs-auth --example argon2_ceiling -- [seconds] [threads]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a measurement tool"
)]

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Version};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let threads: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let params = clouddocs_auth::password::owasp_params();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::default(); params.block_count()];
                let mut out = [0u8; 32];
                let mut n = 0u64;
                while Instant::now() < deadline {
                    argon
                        .hash_password_into_with_memory(
                            b"bench-violet-staple",
                            b"0123456789abcdef",
                            &mut out,
                            &mut memory,
                        )
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
    let rate = total as f64 / seconds as f64;
    println!(
        "argon2id ceiling: {rate:.1} verifies/s on {threads} threads ({total} in {seconds} s)"
    );
}
