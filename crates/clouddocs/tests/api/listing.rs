//! Listing equivalence, property-tested: for random worlds of users, orgs, roles, documents
//! and shares, `GET /documents` (paged) lists exactly the documents `GET /documents/{id}`
//! lets the user read, which is exactly what a plain-Rust model of the read rule says,
//! newest first without repeats; and the filters narrow that set as specified.

use std::collections::{BTreeMap, BTreeSet};

use clouddocs_testkit::{Auth, TestApp, backends};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::json;

backends!(
    [sqlite, postgres],
    the_paged_listing_equals_the_readable_set_and_filters_narrow_it
);

const CASES: usize = 8;
const MAX_USERS: usize = 6;
const PAGE: usize = 7;

/// Titles with LIKE metacharacters, so an unescaped `%` or `_` would match too much
const TITLES: [&str; 12] = [
    "Alpha plan",
    "ALPHA notes",
    "beta_release",
    "Beta release",
    "100% done",
    "1000 done",
    "snake_case_name",
    "snakeXcaseXname",
    "Gamma",
    "gamma%ray",
    "50%_off",
    "plain",
];

/// Title searches: (query, titles it must match)
const QUERIES: [&str; 9] = ["alpha", "BETA", "_", "%", "0%", "a_r", "%_", "xcase", "zzz"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Editor,
    Viewer,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

#[derive(Debug, Clone)]
struct OrgSpec {
    creator: usize,
    /// Roles while documents are written
    initial: Vec<Option<Role>>,
    /// Roles afterwards (promotions, demotions, removals)
    last: Vec<Option<Role>>,
}

#[derive(Debug, Clone)]
struct DocSpec {
    org: usize,
    author_pick: usize,
    published: bool,
    title: usize,
    shares: Vec<(usize, bool)>,
}

#[derive(Debug, Clone)]
struct World {
    users: usize,
    orgs: Vec<OrgSpec>,
    docs: Vec<DocSpec>,
}

fn role() -> impl Strategy<Value = Option<Role>> {
    prop_oneof![
        Just(None),
        Just(Some(Role::Admin)),
        Just(Some(Role::Editor)),
        Just(Some(Role::Viewer))
    ]
}

fn world() -> impl Strategy<Value = World> {
    (3usize..=MAX_USERS, 2usize..=3).prop_flat_map(|(users, orgs)| {
        let org = (
            0..users,
            prop::collection::vec(role(), users),
            prop::collection::vec(role(), users),
        )
            .prop_map(|(creator, mut initial, mut last)| {
                initial[creator] = Some(Role::Admin);
                last[creator] = Some(Role::Admin);
                OrgSpec {
                    creator,
                    initial,
                    last,
                }
            });
        let doc = (
            0..orgs,
            any::<usize>(),
            any::<bool>(),
            0..TITLES.len(),
            prop::collection::vec((0..users, any::<bool>()), 0..3),
        )
            .prop_map(|(org, author_pick, published, title, shares)| DocSpec {
                org,
                author_pick,
                published,
                title,
                shares,
            });
        (
            Just(users),
            prop::collection::vec(org, orgs),
            prop::collection::vec(doc, 15..=40),
        )
            .prop_map(|(users, orgs, docs)| World { users, orgs, docs })
    })
}

/// A created document as the model sees it
#[derive(Debug, Clone)]
struct ModelDoc {
    id: String,
    org: usize,
    author: usize,
    published: bool,
    title: &'static str,
    shared_with: BTreeSet<usize>,
}

/// The read rule of the default policy, in plain Rust
fn model_reads(world: &World, user: usize, doc: &ModelDoc) -> bool {
    let role = world.orgs[doc.org].last[user];
    doc.author == user
        || doc.shared_with.contains(&user)
        || matches!(role, Some(Role::Admin | Role::Editor))
        || (role.is_some() && doc.published)
}

/// Pages through `GET /documents` with `query`; returns the ids in order, checking page
/// size, newest-first order and no repeats on the way
async fn list_all(app: &TestApp, token: &str, query: &[(&str, String)]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut params: Vec<(&str, String)> = query.to_vec();
        params.push(("limit", PAGE.to_string()));
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let path = format!(
            "/documents?{}",
            serde_urlencoded::to_string(&params).unwrap()
        );
        let (status, page) = app
            .call(Method::GET, &path, Auth::Bearer(token), None)
            .await;
        assert_eq!(status, 200, "{params:?}");
        let items = page["items"].as_array().unwrap();
        assert!(
            items.len() <= PAGE,
            "page larger than the limit: {}",
            items.len()
        );
        for item in items {
            let id = item["id"].as_str().unwrap().to_owned();
            if let Some(last) = ids.last() {
                assert!(
                    id < *last,
                    "not newest first / repeated: {id} after {last} ({params:?})"
                );
            }
            ids.push(id);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
    panic!("more than 100 pages for {query:?}");
}

fn set_of(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "an id repeats: {ids:?}");
    set
}

/// What a case exercised, so the run can prove the interesting paths were taken
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    /// A listing needed more than one page
    multi_page: bool,
    /// `q=_` or `q=%` matched some but not all readable documents (escaping mattered)
    escaping: bool,
    /// A user read a document only as its demoted or removed author
    demoted_author: bool,
}

async fn run_case(
    app: &TestApp,
    case: usize,
    world: &World,
    users: &[(String, String)],
) -> Coverage {
    let mut coverage = Coverage::default();
    // Orgs and initial memberships.
    let mut org_ids = Vec::new();
    for (o, spec) in world.orgs.iter().enumerate() {
        let creator = &users[spec.creator].1;
        let org_id = app
            .create_org(creator, &format!("Case {case} org {o}"))
            .await;
        for (u, role) in spec.initial.iter().enumerate().take(world.users) {
            if let (Some(role), true) = (role, u != spec.creator) {
                let added = app
                    .add_member(creator, &org_id, &users[u].0, role.as_str())
                    .await;
                assert_eq!(added, 200);
            }
        }
        org_ids.push(org_id);
    }
    // Documents, written by an editor or admin of the org, and their shares.
    let mut docs: Vec<ModelDoc> = Vec::new();
    for spec in &world.docs {
        let org = &world.orgs[spec.org];
        let writers: Vec<usize> = (0..world.users)
            .filter(|u| matches!(org.initial[*u], Some(Role::Admin | Role::Editor)))
            .collect();
        let author = writers[spec.author_pick % writers.len()];
        let title = TITLES[spec.title];
        let path = format!("/orgs/{}/documents", org_ids[spec.org]);
        let body = json!({"title": title, "body": "b", "published": spec.published});
        let (status, doc) = app
            .call(
                Method::POST,
                &path,
                Auth::Bearer(&users[author].1),
                Some(body),
            )
            .await;
        assert_eq!(status, 201);
        let id = doc["id"].as_str().unwrap().to_owned();
        let mut shared_with = BTreeSet::new();
        for (u, editor) in &spec.shares {
            let role = if *editor { "editor" } else { "viewer" };
            let shared = app.share(&users[author].1, &id, &users[*u].0, role).await;
            assert_eq!(shared, 204);
            shared_with.insert(*u);
        }
        docs.push(ModelDoc {
            id,
            org: spec.org,
            author,
            published: spec.published,
            title,
            shared_with,
        });
    }
    // Role changes after writing: promotions, demotions (authors included), removals.
    for (o, spec) in world.orgs.iter().enumerate() {
        let creator = &users[spec.creator].1;
        for u in (0..world.users).filter(|u| *u != spec.creator) {
            if spec.initial[u] == spec.last[u] {
                continue;
            }
            match spec.last[u] {
                Some(role) => {
                    let changed = app
                        .add_member(creator, &org_ids[o], &users[u].0, role.as_str())
                        .await;
                    assert_eq!(changed, 200);
                }
                None => {
                    let path = format!("/orgs/{}/members/{}", org_ids[o], users[u].0);
                    let (removed, _) = app
                        .call(Method::DELETE, &path, Auth::Bearer(creator), None)
                        .await;
                    assert_eq!(removed, 204);
                }
            }
        }
    }

    for (u, user) in users.iter().enumerate().take(world.users) {
        let token = &user.1;
        // Three views of "what may u read": the listing, GET by id, the model.
        let listed = set_of(&list_all(app, token, &[]).await);
        coverage.multi_page |= listed.len() > PAGE;
        coverage.demoted_author |= docs.iter().any(|d| {
            let role = world.orgs[d.org].last[u];
            let readable_otherwise = d.shared_with.contains(&u)
                || matches!(role, Some(Role::Admin | Role::Editor))
                || (d.published && role.is_some());
            d.author == u && !readable_otherwise
        });
        let mut by_get = BTreeSet::new();
        for doc in &docs {
            let path = format!("/documents/{}", doc.id);
            let (status, _) = app
                .call(Method::GET, &path, Auth::Bearer(token), None)
                .await;
            match status.as_u16() {
                200 => {
                    by_get.insert(doc.id.clone());
                }
                404 => {}
                other => panic!("GET /documents/{} as user {u}: {other}", doc.id),
            }
        }
        let model: BTreeSet<String> = docs
            .iter()
            .filter(|d| model_reads(world, u, d))
            .map(|d| d.id.clone())
            .collect();
        assert_eq!(
            by_get, model,
            "case {case} user {u}: GET by id vs model\nworld: {world:?}"
        );
        assert_eq!(
            listed, model,
            "case {case} user {u}: listing vs model\nworld: {world:?}"
        );

        let readable: Vec<&ModelDoc> = docs.iter().filter(|d| model.contains(&d.id)).collect();
        let expect = |pred: &dyn Fn(&ModelDoc) -> bool| -> BTreeSet<String> {
            readable
                .iter()
                .filter(|d| pred(d))
                .map(|d| d.id.clone())
                .collect()
        };
        for published in [true, false] {
            let got = set_of(&list_all(app, token, &[("published", published.to_string())]).await);
            assert_eq!(
                got,
                expect(&|d| d.published == published),
                "case {case} user {u}: published={published}"
            );
        }
        for (o, org_id) in org_ids.iter().enumerate() {
            let got = set_of(&list_all(app, token, &[("org", org_id.clone())]).await);
            assert_eq!(
                got,
                expect(&|d| d.org == o),
                "case {case} user {u}: org={o}"
            );
        }
        for q in QUERIES {
            let needle = q.to_lowercase();
            let got = set_of(&list_all(app, token, &[("q", q.to_owned())]).await);
            let want = expect(&|d| d.title.to_lowercase().contains(&needle));
            coverage.escaping |=
                (q == "_" || q == "%") && !want.is_empty() && want.len() < model.len();
            assert_eq!(got, want, "case {case} user {u}: q={q:?}");
        }
        let combined = set_of(
            &list_all(
                app,
                token,
                &[
                    ("org", org_ids[0].clone()),
                    ("published", "true".to_owned()),
                    ("q", "a".to_owned()),
                ],
            )
            .await,
        );
        assert_eq!(
            combined,
            expect(&|d| d.org == 0 && d.published && d.title.to_lowercase().contains('a')),
            "case {case} user {u}: combined filters"
        );
    }

    // Clean up so the next case's users see only their own world: org admins delete all.
    for doc in &docs {
        let admin = &users[world.orgs[doc.org].creator].1;
        let path = format!("/documents/{}", doc.id);
        let (deleted, _) = app
            .call(Method::DELETE, &path, Auth::Bearer(admin), None)
            .await;
        assert_eq!(deleted, 204, "org admin deleting {}", doc.id);
    }
    for (u, (_, token)) in users.iter().enumerate() {
        assert!(
            list_all(app, token, &[]).await.is_empty(),
            "user {u} still lists documents after cleanup"
        );
    }
    coverage
}

async fn the_paged_listing_equals_the_readable_set_and_filters_narrow_it(app: TestApp) {
    // The worlds, generated up front from a fixed seed so a failure reproduces.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: u32::try_from(CASES).unwrap(),
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = world();
    let worlds: Vec<World> = (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    // The users are shared by all cases (each case has its own orgs and cleans up its documents).
    let mut users = Vec::new();
    for u in 0..MAX_USERS {
        let (id, token, _) = app
            .user_with_tokens(&format!("user{u}@example.com"), "")
            .await;
        users.push((id, token));
    }
    let mut stats = BTreeMap::new();
    let mut seen = Coverage::default();
    for (case, world) in worlds.iter().enumerate() {
        let coverage = run_case(&app, case, world, &users).await;
        seen.multi_page |= coverage.multi_page;
        seen.escaping |= coverage.escaping;
        seen.demoted_author |= coverage.demoted_author;
        stats.insert(case, (world.users, world.orgs.len(), world.docs.len()));
    }
    assert_eq!(stats.len(), CASES);
    assert!(
        seen.multi_page && seen.escaping && seen.demoted_author,
        "the worlds missed a path: {seen:?}"
    );
    eprintln!("worlds checked (users, orgs, documents): {stats:?}");
}
