//! The latency distribution of one in-process policy decision (default Cedar set), which
//! criterion's mean does not show: warms up, then times every decision on its own and
//! prints count, mean, p50, p99, p99.9 and max.
//!
//!     cargo run --release -p clouddocs-authz --example decision_latency [decisions]
//!
//! The decisions cycle through representative shapes of the default policy table: a
//! viewer reading a published document, an editor updating, the author sharing, an
//! outsider denied, a shared viewer reading, an admin deleting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark whose setup fails must abort, and it reports on stdout"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use clouddocs_authz::{DocAction, DocumentFacts, OrgRole, PolicyEngine, PrincipalFacts};

fn user(id: &str, memberships: &[(&str, OrgRole)]) -> PrincipalFacts {
    PrincipalFacts {
        user_id: id.to_owned(),
        platform_admin: false,
        memberships: memberships
            .iter()
            .map(|(org, role)| ((*org).to_owned(), *role))
            .collect(),
        mfa: false,
    }
}

fn document(published: bool) -> DocumentFacts {
    DocumentFacts {
        id: "0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b".to_owned(),
        org_id: "0193a1b2-0000-7000-8000-000000000001".to_owned(),
        author_id: "author".to_owned(),
        published,
        viewers: vec!["shared-viewer".to_owned(), "someone-else".to_owned()],
        editors: vec!["shared-editor".to_owned()],
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(200_000, |n| n.parse().expect("a number of decisions"));
    let engine = PolicyEngine::default_set().expect("the default set loads");
    let org = "0193a1b2-0000-7000-8000-000000000001";
    let other = "0193a1b2-0000-7000-8000-000000000002";
    let viewer = user("viewer", &[(org, OrgRole::Viewer), (other, OrgRole::Admin)]);
    let editor = user("editor", &[(org, OrgRole::Editor)]);
    let admin = user("admin", &[(org, OrgRole::Admin)]);
    let author = user("author", &[(org, OrgRole::Editor)]);
    let outsider = user("outsider", &[(other, OrgRole::Admin)]);
    let shared = user("shared-viewer", &[]);
    let published = document(true);
    let draft = document(false);
    // (principal, action, document, expected)
    let shapes: [(&PrincipalFacts, DocAction, &DocumentFacts, bool); 6] = [
        (&viewer, DocAction::Read, &published, true),
        (&editor, DocAction::Update, &draft, true),
        (&author, DocAction::Share, &draft, true),
        (&outsider, DocAction::Read, &published, false),
        (&shared, DocAction::Read, &draft, true),
        (&admin, DocAction::Delete, &published, true),
    ];
    for (principal, action, doc, expected) in shapes {
        let decision = engine.decide_document(principal, action, doc);
        assert_eq!(
            decision.allowed, expected,
            "{} {action}: {decision:?}",
            principal.user_id
        );
    }

    let warmup = Instant::now();
    let mut i = 0usize;
    while warmup.elapsed() < Duration::from_secs(1) {
        let (principal, action, doc, _) = shapes[i % shapes.len()];
        black_box(engine.decide_document(principal, action, doc));
        i += 1;
    }

    let mut samples = Vec::with_capacity(count);
    let total = Instant::now();
    for i in 0..count {
        let (principal, action, doc, _) = shapes[i % shapes.len()];
        let start = Instant::now();
        let decision = engine.decide_document(black_box(principal), action, black_box(doc));
        samples.push(start.elapsed());
        black_box(decision);
    }
    let wall = total.elapsed();
    samples.sort_unstable();
    let pick = |q: f64| {
        // Nearest-rank percentile
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rank within the sample count"
        )]
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        micros(samples[rank - 1])
    };
    let sum: Duration = samples.iter().sum();
    #[allow(clippy::cast_precision_loss, reason = "a sample count far below 2^52")]
    let mean = micros(sum) / samples.len() as f64;
    println!(
        "decisions {} (6 shapes, {:.2} s) mean {mean:.2} µs  p50 {:.2} µs  p99 {:.2} µs  p99.9 {:.2} µs  max {:.2} µs",
        samples.len(),
        wall.as_secs_f64(),
        pick(0.50),
        pick(0.99),
        pick(0.999),
        micros(samples[samples.len() - 1]),
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
