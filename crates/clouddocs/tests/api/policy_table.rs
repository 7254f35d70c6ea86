//! Every cell of the document policy table, over HTTP with real users: eight relations ×
//! published/unpublished × read/update/delete/share, and `/authz/check` agreeing with it.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::Method;
use serde_json::json;

backends!(
    [sqlite, postgres],
    authz_check_agrees_with_every_cell_of_the_policy_table,
    every_cell_of_the_policy_table_answers_as_specified_over_http,
);

/// How the caller relates to the document
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// Org admin, not the author
    OrgAdmin,
    /// Org editor, not the author
    OrgEditor,
    /// Org viewer
    OrgViewer,
    /// The author, created the document as editor and was then demoted to viewer
    DemotedAuthor,
    /// Outside the org, document shared with as viewer
    SharedViewer,
    /// Outside the org, document shared with as editor
    SharedEditor,
    /// In no org at all
    Outsider,
    /// Admin of another org
    OtherOrgMember,
}

const RELS: [Rel; 8] = [
    Rel::OrgAdmin,
    Rel::OrgEditor,
    Rel::OrgViewer,
    Rel::DemotedAuthor,
    Rel::SharedViewer,
    Rel::SharedEditor,
    Rel::Outsider,
    Rel::OtherOrgMember,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Read,
    Update,
    Delete,
    Share,
}

const ACTS: [Act; 4] = [Act::Read, Act::Update, Act::Delete, Act::Share];

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::Read => "read",
            Act::Update => "update",
            Act::Delete => "delete",
            Act::Share => "share",
        }
    }
}

/// (relation, published, [read, update, delete, share]) → expected HTTP status
const TABLE: [(Rel, bool, [u16; 4]); 16] = [
    (Rel::OrgAdmin, true, [200, 200, 204, 204]),
    (Rel::OrgAdmin, false, [200, 200, 204, 204]),
    (Rel::OrgEditor, true, [200, 200, 403, 403]),
    (Rel::OrgEditor, false, [200, 200, 403, 403]),
    (Rel::OrgViewer, true, [200, 403, 403, 403]),
    (Rel::OrgViewer, false, [404, 404, 404, 404]),
    (Rel::DemotedAuthor, true, [200, 200, 403, 204]),
    (Rel::DemotedAuthor, false, [200, 200, 204, 204]),
    (Rel::SharedViewer, true, [200, 403, 403, 403]),
    (Rel::SharedViewer, false, [200, 403, 403, 403]),
    (Rel::SharedEditor, true, [200, 200, 403, 403]),
    (Rel::SharedEditor, false, [200, 200, 403, 403]),
    (Rel::Outsider, true, [404, 404, 404, 404]),
    (Rel::Outsider, false, [404, 404, 404, 404]),
    (Rel::OtherOrgMember, true, [404, 404, 404, 404]),
    (Rel::OtherOrgMember, false, [404, 404, 404, 404]),
];

/// Cells whose `/authz/check` answer must name exactly these policies
const NAMED: [(Rel, bool, Act, &[&str]); 12] = [
    (
        Rel::OrgViewer,
        true,
        Act::Read,
        &["org-member-reads-published"],
    ),
    (Rel::OrgViewer, false, Act::Read, &[]),
    (
        Rel::OrgEditor,
        false,
        Act::Update,
        &["org-editor-reads-updates"],
    ),
    (Rel::OrgEditor, true, Act::Delete, &[]),
    (
        Rel::OrgAdmin,
        false,
        Act::Delete,
        &["org-admin-deletes-shares"],
    ),
    (
        Rel::DemotedAuthor,
        false,
        Act::Delete,
        &["author-deletes-unpublished"],
    ),
    (Rel::DemotedAuthor, true, Act::Delete, &[]),
    (
        Rel::DemotedAuthor,
        true,
        Act::Share,
        &["author-reads-updates-shares"],
    ),
    (
        Rel::SharedEditor,
        true,
        Act::Update,
        &["shared-editor-updates"],
    ),
    (Rel::SharedViewer, false, Act::Read, &["shared-user-reads"]),
    (Rel::Outsider, false, Act::Read, &[]),
    (Rel::OtherOrgMember, true, Act::Read, &[]),
];

fn expected(rel: Rel, published: bool, act: Act) -> u16 {
    let row = TABLE
        .iter()
        .find(|(r, p, _)| *r == rel && *p == published)
        .unwrap();
    row.2[ACTS.iter().position(|a| *a == act).unwrap()]
}

fn rel_index(rel: Rel) -> usize {
    RELS.iter().position(|r| *r == rel).unwrap()
}

/// Sets `user`'s role in `org`; asserts 200 and the role in the answer
async fn set_role(app: &TestApp, token: &str, org: &str, user: &str, role: &str) {
    let path = format!("/orgs/{org}/members/{user}");
    let body = json!({"role": role});
    let (status, member) = app
        .call(Method::PUT, &path, Auth::Bearer(token), Some(body))
        .await;
    assert_eq!(status, 200, "setting role {role}");
    assert_eq!(member["role"], role);
}

async fn create_doc(app: &TestApp, token: &str, org: &str, title: &str, published: bool) -> String {
    let path = format!("/orgs/{org}/documents");
    let body = json!({"title": title, "body": "body", "published": published});
    let (status, doc) = app
        .call(Method::POST, &path, Auth::Bearer(token), Some(body))
        .await;
    assert_eq!(status, 201, "creating {title}");
    doc["id"].as_str().unwrap().to_owned()
}

/// Performs `act` on `doc` as `token` and returns the status
async fn perform(app: &TestApp, token: &str, act: Act, doc: &str, third_user: &str) -> u16 {
    let path = format!("/documents/{doc}");
    let auth = Auth::Bearer(token);
    let status = match act {
        Act::Read => app.call(Method::GET, &path, auth, None).await.0,
        Act::Update => {
            let body = json!({"title": "Edited"});
            app.call(Method::PATCH, &path, auth, Some(body)).await.0
        }
        Act::Delete => app.call(Method::DELETE, &path, auth, None).await.0,
        Act::Share => app.share(token, doc, third_user, "viewer").await,
    };
    status.as_u16()
}

/// One user per relation (and the target of the share cells), and the documents: per
/// published flag, a main document for read/update/share, and one fresh document per
/// relation for its delete cell
struct World {
    ids: Vec<String>,
    tokens: Vec<String>,
    third_id: String,
    /// Index: published as usize
    main_doc: Vec<String>,
    /// Index: [published as usize][relation]
    delete_docs: Vec<Vec<String>>,
}

impl World {
    fn tok(&self, rel: Rel) -> &str {
        &self.tokens[rel_index(rel)]
    }

    fn id(&self, rel: Rel) -> &str {
        &self.ids[rel_index(rel)]
    }
}

async fn world(app: &TestApp) -> World {
    let mut w = World {
        ids: Vec::new(),
        tokens: Vec::new(),
        third_id: String::new(),
        main_doc: Vec::new(),
        delete_docs: Vec::new(),
    };
    for (i, rel) in RELS.iter().enumerate() {
        let (id, token, _) = app
            .user_with_tokens(&format!("rel{i}@example.com"), "")
            .await;
        eprintln!("{rel:?} = {id}");
        w.ids.push(id);
        w.tokens.push(token);
    }
    w.third_id = app.user_with_tokens("third@example.com", "").await.0;

    let org_a = app.create_org(w.tok(Rel::OrgAdmin), "Org A").await;
    let _org_b = app.create_org(w.tok(Rel::OtherOrgMember), "Org B").await;
    for (rel, role) in [
        (Rel::OrgEditor, "editor"),
        (Rel::OrgViewer, "viewer"),
        (Rel::DemotedAuthor, "editor"),
    ] {
        set_role(app, w.tok(Rel::OrgAdmin), &org_a, w.id(rel), role).await;
    }

    // All written by the author while still an editor.
    let author = w.tok(Rel::DemotedAuthor);
    let mut main_doc = Vec::new();
    let mut delete_docs = Vec::new();
    for published in [false, true] {
        let main = create_doc(app, author, &org_a, &format!("Main {published}"), published).await;
        let mut fresh = Vec::new();
        for (i, _) in RELS.iter().enumerate() {
            let title = format!("Del {published} {i}");
            fresh.push(create_doc(app, author, &org_a, &title, published).await);
        }
        for doc in std::iter::once(&main).chain(fresh.iter()) {
            for (rel, role) in [(Rel::SharedViewer, "viewer"), (Rel::SharedEditor, "editor")] {
                assert_eq!(app.share(author, doc, w.id(rel), role).await, 204);
            }
        }
        main_doc.push(main);
        delete_docs.push(fresh);
    }
    w.main_doc = main_doc;
    w.delete_docs = delete_docs;
    set_role(
        app,
        w.tok(Rel::OrgAdmin),
        &org_a,
        w.id(Rel::DemotedAuthor),
        "viewer",
    )
    .await;
    w
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} cell(s) disagree with the policy table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn authz_check_agrees_with_every_cell_of_the_policy_table(app: TestApp) {
    let w = world(&app).await;

    // The decision of every cell agrees with the table (on the main document, which has the
    // same attributes as the delete documents), and chosen cells name their policies.
    let mut failures = Vec::new();
    for (rel, published, statuses) in TABLE {
        for (act, status) in ACTS.iter().zip(statuses) {
            let doc = &w.main_doc[usize::from(published)];
            let body = json!({"action": act.name(), "resource": {"type": "Document", "id": doc}});
            let (_, check) = app
                .call(
                    Method::POST,
                    "/authz/check",
                    Auth::Bearer(w.tok(rel)),
                    Some(body),
                )
                .await;
            let want = if (200..300).contains(&status) {
                "allow"
            } else {
                "deny"
            };
            if check["decision"] != want {
                failures.push(format!(
                    "authz/check {rel:?} published={published} {act:?}: want {want}, got {check}"
                ));
            }
            if let Some((.., names)) = NAMED
                .iter()
                .find(|(r, p, a, _)| *r == rel && *p == published && a == act)
            {
                let mut got: Vec<String> = check["policies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect();
                got.sort();
                let mut want_names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
                want_names.sort();
                if got != want_names {
                    failures.push(format!("authz/check {rel:?} published={published} {act:?}: policies {got:?}, want {want_names:?}"));
                }
            }
        }
    }
    report(&failures);
}

async fn every_cell_of_the_policy_table_answers_as_specified_over_http(app: TestApp) {
    let w = world(&app).await;
    let admin_reads = |doc: &str| {
        let path = format!("/documents/{doc}");
        let auth = Auth::Bearer(w.tok(Rel::OrgAdmin));
        let app = &app;
        async move { app.call(Method::GET, &path, auth, None).await }
    };

    // Every HTTP cell.
    let mut failures = Vec::new();
    let mut cells = 0;
    for (rel, published, statuses) in TABLE {
        for (act, want) in ACTS.iter().zip(statuses) {
            let doc = match act {
                Act::Delete => &w.delete_docs[usize::from(published)][rel_index(rel)],
                _ => &w.main_doc[usize::from(published)],
            };
            let got = perform(&app, w.tok(rel), *act, doc, &w.third_id).await;
            cells += 1;
            if got != want {
                failures.push(format!(
                    "HTTP {rel:?} published={published} {act:?} on {doc}: want {want}, got {got}"
                ));
            }
        }
    }
    assert_eq!(cells, 8 * 2 * 4);

    // A refused delete left the document in place; an allowed one removed it.
    for (rel, published, _) in TABLE {
        let doc = &w.delete_docs[usize::from(published)][rel_index(rel)];
        let (status, _) = admin_reads(doc).await;
        let want = if expected(rel, published, Act::Delete) == 204 {
            404
        } else {
            200
        };
        if status != want {
            failures.push(format!(
                "after delete by {rel:?} published={published}: admin GET {status}, want {want}"
            ));
        }
    }
    // The update cells that succeeded changed the title.
    for published in [false, true] {
        let (_, doc) = admin_reads(&w.main_doc[usize::from(published)]).await;
        if doc["title"] != "Edited" {
            failures.push(format!(
                "main document published={published} was not edited: {doc}"
            ));
        }
    }
    report(&failures);
}
