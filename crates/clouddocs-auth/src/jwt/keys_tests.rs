//! Tests of `keys`.

use super::*;
use crate::jwt::testing::key;

const SECRET: &str = "correct horse battery staple, but longer";

#[test]
fn sealed_data_opens_with_the_same_key_and_aad() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let sealed = master.seal(b"private key bytes", b"kid-1").unwrap();
    assert_eq!(sealed.len(), NONCE_LEN + 17 + 16);
    assert_eq!(
        master.open(&sealed, b"kid-1").unwrap().as_slice(),
        b"private key bytes"
    );
}

#[test]
fn the_same_secret_derives_the_same_master_key() {
    let sealed = MasterKey::from_secret(SECRET)
        .unwrap()
        .seal(b"x", b"k")
        .unwrap();
    let again = MasterKey::from_secret(SECRET).unwrap();
    assert_eq!(again.open(&sealed, b"k").unwrap().as_slice(), b"x");
}

#[test]
fn sealing_twice_uses_different_nonces() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    assert_ne!(
        master.seal(b"x", b"k").unwrap(),
        master.seal(b"x", b"k").unwrap()
    );
}

#[test]
fn tampered_sealed_data_fails_to_open() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let sealed = master.seal(b"private key bytes", b"kid-1").unwrap();
    for i in 0..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[i] ^= 0x01;
        assert_eq!(
            master.open(&tampered, b"kid-1").unwrap_err(),
            JwtError::Crypto
        );
    }
    assert_eq!(
        master
            .open(&sealed[..sealed.len() - 1], b"kid-1")
            .unwrap_err(),
        JwtError::Crypto
    );
    assert_eq!(
        master.open(&sealed[..5], b"kid-1").unwrap_err(),
        JwtError::Crypto
    );
    assert_eq!(master.open(&[], b"kid-1").unwrap_err(), JwtError::Crypto);
}

#[test]
fn sealed_data_with_a_different_aad_fails_to_open() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let sealed = master.seal(b"private key bytes", b"kid-1").unwrap();
    assert_eq!(
        master.open(&sealed, b"kid-2").unwrap_err(),
        JwtError::Crypto
    );
    assert_eq!(master.open(&sealed, b"").unwrap_err(), JwtError::Crypto);
}

#[test]
fn sealed_data_does_not_open_under_another_master_secret() {
    let sealed = MasterKey::from_secret(SECRET)
        .unwrap()
        .seal(b"x", b"k")
        .unwrap();
    let other = MasterKey::from_secret("another long master secret").unwrap();
    assert_eq!(other.open(&sealed, b"k").unwrap_err(), JwtError::Crypto);
}

#[test]
fn short_master_secrets_are_refused() {
    assert_eq!(
        MasterKey::from_secret("").unwrap_err(),
        JwtError::WeakMasterSecret
    );
    assert_eq!(
        MasterKey::from_secret("short").unwrap_err(),
        JwtError::WeakMasterSecret
    );
}

#[test]
fn stored_keys_open_to_the_same_key_for_every_algorithm() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    for alg in [
        SigningAlgorithm::EdDsa,
        SigningAlgorithm::Es256,
        SigningAlgorithm::Rs256,
        SigningAlgorithm::Hs256,
    ] {
        let original = key(alg);
        let stored = original.to_stored(&master).unwrap();
        assert_eq!(stored.kid, original.kid());
        assert_eq!(stored.alg, alg.as_str());
        assert_eq!(stored.public_jwk.is_empty(), alg.is_symmetric());
        assert!(!stored.public_jwk.contains("\"d\""));
        let opened = stored.open(&master).unwrap();
        assert_eq!(opened.kid(), original.kid());
        assert_eq!(opened.alg(), alg);
        assert_eq!(opened.private_bytes(), original.private_bytes());
        assert_eq!(opened.public_jwk(), original.public_jwk());
        assert_eq!(opened.created_at(), original.created_at());
    }
}

#[test]
fn asymmetric_kids_are_jwk_thumbprints_and_hs256_kids_are_uuids() {
    let ed = key(SigningAlgorithm::EdDsa);
    let thumbprint = ed
        .public_jwk()
        .unwrap()
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    assert_eq!(ed.kid(), thumbprint);
    let hs = key(SigningAlgorithm::Hs256);
    assert_eq!(
        uuid::Uuid::parse_str(hs.kid()).unwrap().get_version_num(),
        7
    );
    assert!(hs.public_jwk().is_none());
}

#[test]
fn a_sealed_key_moved_to_another_row_fails_to_open() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let a = key(SigningAlgorithm::EdDsa).to_stored(&master).unwrap();
    let b = key(SigningAlgorithm::Es256).to_stored(&master).unwrap();
    let swapped = StoredKey {
        sealed_private: b.sealed_private,
        ..a
    };
    assert_eq!(swapped.open(&master).unwrap_err(), JwtError::Crypto);
}

#[test]
fn a_stored_row_with_a_substituted_public_key_or_algorithm_is_rejected() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let ed = key(SigningAlgorithm::EdDsa).to_stored(&master).unwrap();
    let other = KeyMaterial::generate(SigningAlgorithm::EdDsa)
        .unwrap()
        .to_stored(&master)
        .unwrap();
    let forged = StoredKey {
        public_jwk: other.public_jwk,
        ..ed.clone()
    };
    assert_eq!(forged.open(&master).unwrap_err(), JwtError::KeyMismatch);
    let relabelled = StoredKey {
        alg: "HS256".to_owned(),
        ..ed.clone()
    };
    assert_eq!(relabelled.open(&master).unwrap_err(), JwtError::KeyMismatch);
    let unknown = StoredKey {
        alg: "none".to_owned(),
        ..ed
    };
    assert_eq!(
        unknown.open(&master).unwrap_err(),
        JwtError::UnsupportedAlgorithm
    );
}

#[test]
fn debug_output_never_shows_private_key_material() {
    let hs = key(SigningAlgorithm::Hs256);
    let debug = format!("{hs:?}");
    assert!(debug.contains("[redacted]"));
    assert!(!debug.contains(&format!("{:?}", hs.private_bytes())));
    assert_eq!(
        format!("{:?}", MasterKey::from_secret(SECRET).unwrap()),
        "MasterKey([redacted])"
    );
}

#[test]
fn retiring_a_key_survives_storage() {
    let master = MasterKey::from_secret(SECRET).unwrap();
    let mut k = KeyMaterial::generate(SigningAlgorithm::Es256).unwrap();
    assert_eq!(k.retired_at(), None);
    k.retire(1_700_000_000);
    let opened = k.to_stored(&master).unwrap().open(&master).unwrap();
    assert_eq!(opened.retired_at(), Some(1_700_000_000));
}
