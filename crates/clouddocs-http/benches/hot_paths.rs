//! Criterion micro-benchmarks of the hot paths, through the real service layer on a real
//! SQLite file: bearer verification (EdDSA + denylist), one policy decision (default Cedar
//! set), refresh rotation, and password verification next to raw Argon2id — which shows
//! that Argon2 is the whole cost of a login.
//!
//!     cargo bench -p clouddocs-http --bench hot_paths
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must abort"
)]

use std::hint::black_box;

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use clouddocs_authz::{DocAction, DocumentFacts, OrgRole, PrincipalFacts};
use clouddocs_domain::{DisplayName, Email, Password};
use clouddocs_http::startup::{ServerSettings, build_state};
use clouddocs_service::NewAccount;
use criterion::{Criterion, criterion_group, criterion_main};

const PASSWORD: &str = "bench-violet-staple-4711";

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let state = rt.block_on(build_state(&ServerSettings::new(url))).unwrap();
    let svc = state.svc;
    rt.block_on(svc.register(NewAccount {
        email: Email::parse("bench@example.com").unwrap(),
        password: Password::parse(PASSWORD).unwrap(),
        display_name: DisplayName::parse("Bench").unwrap(),
    }))
    .unwrap();
    let tokens = rt
        .block_on(svc.password_grant("bench@example.com", PASSWORD, None, None))
        .unwrap();

    c.bench_function(
        "bearer verification, token seen before (cache + denylist)",
        |b| {
            b.iter(|| {
                black_box(
                    rt.block_on(svc.authenticate_bearer(&tokens.access_token))
                        .unwrap(),
                )
            });
        },
    );

    let principal = PrincipalFacts {
        user_id: "u1".to_owned(),
        platform_admin: false,
        memberships: vec![("o1".to_owned(), OrgRole::Viewer)],
        mfa: false,
    };
    let doc = DocumentFacts {
        id: "d1".to_owned(),
        org_id: "o1".to_owned(),
        author_id: "u2".to_owned(),
        published: true,
        viewers: vec!["u3".to_owned()],
        editors: vec![],
    };
    c.bench_function("policy decision (default Cedar set)", |b| {
        b.iter(|| {
            black_box(
                svc.policy()
                    .decide_document(&principal, DocAction::Read, &doc),
            )
        });
    });

    let mut refresh = tokens.refresh_token.clone().unwrap();
    c.bench_function("refresh rotation (claim + new token + access JWT)", |b| {
        b.iter(|| {
            let next = rt
                .block_on(svc.refresh_grant(&refresh, None, None))
                .unwrap();
            refresh = next.refresh_token.unwrap();
        });
    });

    // A token never seen before: the EdDSA signature is checked (then cached). Each
    // iteration gets a fresh access token from a refresh rotation, outside the timing.
    c.bench_function(
        "bearer verification, first sight (EdDSA signature + claims + denylist)",
        |b| {
            b.iter_batched(
                || {
                    let next = rt
                        .block_on(svc.refresh_grant(&refresh, None, None))
                        .unwrap();
                    refresh = next.refresh_token.unwrap();
                    next.access_token
                },
                |access| black_box(rt.block_on(svc.authenticate_bearer(&access)).unwrap()),
                criterion::BatchSize::SmallInput,
            );
        },
    );

    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("login credential check (service)", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(svc.check_credentials_unthrottled("bench@example.com", PASSWORD))
                    .unwrap(),
            )
        });
    });
    let hash = Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    group.bench_function("raw Argon2id verify (m=19 MiB, t=2, p=1)", |b| {
        b.iter(|| {
            Argon2::default()
                .verify_password(black_box(PASSWORD.as_bytes()), black_box(hash.as_str()))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
