//! Tests of `password`.

use super::*;
use argon2::{PasswordHasher as _, PasswordVerifier as _};

/// The hashing threads must yield to the executor: nice +10, read back from the kernel
#[cfg(target_os = "linux")]
#[tokio::test]
async fn hashing_runs_on_named_threads_at_a_lower_priority() {
    let hasher = PasswordHasher::new(2).unwrap();
    hasher.hash(pw("correct-violet-staple")).await.unwrap();
    let mut niceness = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap();
        if comm.trim().starts_with("clouddocs-argon") {
            // Field 19 of stat is the nice value; fields after the `(comm)` are plain.
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            let after = stat.rsplit_once(')').unwrap().1;
            let nice: i32 = after.split_whitespace().nth(16).unwrap().parse().unwrap();
            niceness.push(nice);
        }
    }
    assert!(niceness.len() >= 2, "two hashing threads: {niceness:?}");
    assert!(
        niceness.iter().all(|n| *n == HASHING_NICENESS),
        "{niceness:?}"
    );
}

#[tokio::test]
async fn our_phc_strings_verify_with_the_argon2_crate_itself() {
    let hasher = PasswordHasher::new(1).unwrap();
    let first = hasher.hash(pw("correct-violet-staple")).await.unwrap();
    let second = hasher.hash(pw("correct-violet-staple")).await.unwrap();
    assert_ne!(first, second, "every hash has its own salt");
    let parsed = PasswordHash::new(&first).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct-violet-staple", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"wrong-violet-staple", &parsed)
            .is_err()
    );
}

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

#[tokio::test]
async fn a_hash_verifies_only_the_right_password() {
    let hasher = PasswordHasher::new(2).unwrap();
    let hash = hasher.hash(pw("correct-violet-staple")).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(matches!(
        hasher
            .verify(pw("correct-violet-staple"), Some(hash.clone()))
            .await
            .unwrap(),
        Verification::Valid { rehash: None }
    ));
    assert!(matches!(
        hasher
            .verify(pw("wrong-violet-staple"), Some(hash))
            .await
            .unwrap(),
        Verification::Invalid
    ));
}

#[tokio::test]
async fn an_unknown_user_is_always_invalid() {
    let hasher = PasswordHasher::new(1).unwrap();
    assert!(matches!(
        hasher
            .verify(pw("clouddocs-dummy-password-for-timing"), None)
            .await
            .unwrap(),
        Verification::Invalid
    ));
}

#[tokio::test]
async fn legacy_bcrypt_and_weaker_argon2_hashes_are_upgraded() {
    let hasher = PasswordHasher::new(1).unwrap();
    let legacy = bcrypt::hash("correct-violet-staple", 4).unwrap();
    let Verification::Valid { rehash: Some(new) } = hasher
        .verify(pw("correct-violet-staple"), Some(legacy))
        .await
        .unwrap()
    else {
        panic!("bcrypt hash should verify and be upgraded");
    };
    assert!(new.starts_with("$argon2id$"));

    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(b"correct-violet-staple")
    .unwrap()
    .to_string();
    assert!(matches!(
        hasher
            .verify(pw("correct-violet-staple"), Some(weak))
            .await
            .unwrap(),
        Verification::Valid { rehash: Some(_) }
    ));
}

#[tokio::test]
async fn a_hostile_stored_hash_is_an_error_not_a_panic() {
    let hasher = PasswordHasher::new(1).unwrap();
    let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
    assert!(
        hasher
            .verify(pw("correct-violet-staple"), Some(huge.to_owned()))
            .await
            .is_err()
    );
    for stored in [
        "$2b$04$ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ",
        "$argon2id$garbage",
        "plain",
    ] {
        assert!(
            hasher
                .verify(pw("correct-violet-staple"), Some(stored.to_owned()))
                .await
                .is_err()
        );
    }
}

/// Computed with Python's `hashlib.pbkdf2_hmac('sha256', …, 260000)`, Django's format
const DJANGO_HASH: &str =
    "pbkdf2_sha256$260000$Zs3pmK9TqLb1$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=";

#[tokio::test]
async fn django_pbkdf2_hashes_verify_and_are_upgraded() {
    let hasher = PasswordHasher::new(1).unwrap();
    let Verification::Valid { rehash: Some(new) } = hasher
        .verify(
            pw("correct horse battery staple"),
            Some(DJANGO_HASH.to_owned()),
        )
        .await
        .unwrap()
    else {
        panic!("the Django hash should verify and be upgraded");
    };
    assert!(new.starts_with("$argon2id$"));
    assert!(matches!(
        hasher
            .verify(
                pw("correct horse battery stapler"),
                Some(DJANGO_HASH.to_owned())
            )
            .await
            .unwrap(),
        Verification::Invalid
    ));
}

#[test]
fn only_well_formed_hashes_of_known_kinds_are_importable() {
    assert_eq!(is_importable_hash(DJANGO_HASH), Ok(()));
    assert_eq!(is_importable_hash(&bcrypt::hash("x", 4).unwrap()), Ok(()));
    let argon = Argon2::default().hash_password(b"x").unwrap().to_string();
    assert_eq!(is_importable_hash(&argon), Ok(()));
    for bad in [
        "",
        "plaintext",
        "$2x$10$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "$2b$99$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "$2b$10$short",
        "pbkdf2_sha256$0$salt$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=",
        "pbkdf2_sha256$99999999999$salt$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=",
        "pbkdf2_sha256$5000000$salt$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=",
        "$2b$31$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "$2b$16$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "pbkdf2_sha256$1000$$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=",
        "pbkdf2_sha256$1000$salt$notbase64!",
        "pbkdf2_sha1$1000$salt$abc",
        "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        "md5$abc",
    ] {
        assert!(is_importable_hash(bad).is_err(), "{bad}");
    }
}
