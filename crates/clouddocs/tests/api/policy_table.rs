//! Every cell of the document policy table, over HTTP with real users: eight relations ×
//! published/unpublished × read/update/delete/share, and `/authz/check` agreeing with it.

use clouddocs_testkit::{TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    every_cell_of_the_policy_table_answers_as_specified_over_http
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

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn create_org(app: &TestApp, token: &str, name: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.url("/orgs"))
        .bearer_auth(token)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "creating org {name}");
    json_of(response).await["id"].as_str().unwrap().to_owned()
}

async fn set_role(app: &TestApp, token: &str, org: &str, user: &str, role: &str) {
    let response = reqwest::Client::new()
        .put(app.url(&format!("/orgs/{org}/members/{user}")))
        .bearer_auth(token)
        .json(&json!({"role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "setting role {role}");
    assert_eq!(json_of(response).await["role"], role);
}

async fn create_doc(app: &TestApp, token: &str, org: &str, title: &str, published: bool) -> String {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/orgs/{org}/documents")))
        .bearer_auth(token)
        .json(&json!({"title": title, "body": "body", "published": published}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "creating {title}");
    json_of(response).await["id"].as_str().unwrap().to_owned()
}

async fn share(app: &TestApp, token: &str, doc: &str, user: &str, role: &str) -> u16 {
    reqwest::Client::new()
        .put(app.url(&format!("/documents/{doc}/shares/{user}")))
        .bearer_auth(token)
        .json(&json!({"role": role}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Performs `act` on `doc` as `token` and returns the status
async fn perform(app: &TestApp, token: &str, act: Act, doc: &str, third_user: &str) -> u16 {
    let http = reqwest::Client::new();
    let url = app.url(&format!("/documents/{doc}"));
    let request = match act {
        Act::Read => http.get(url),
        Act::Update => http.patch(url).json(&json!({"title": "Edited"})),
        Act::Delete => http.delete(url),
        Act::Share => {
            return share(app, token, doc, third_user, "viewer").await;
        }
    };
    request
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn every_cell_of_the_policy_table_answers_as_specified_over_http(app: TestApp) {
    let http = reqwest::Client::new();
    // One user per relation, plus the target of the share cells.
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for (i, rel) in RELS.iter().enumerate() {
        let (id, token, _) = app
            .user_with_tokens(&format!("rel{i}@example.com"), "")
            .await;
        eprintln!("{rel:?} = {id}");
        ids.push(id);
        tokens.push(token);
    }
    let (third_id, _, _) = app.user_with_tokens("third@example.com", "").await;
    let tok = |rel: Rel| tokens[rel_index(rel)].as_str();
    let id = |rel: Rel| ids[rel_index(rel)].as_str();

    let org_a = create_org(&app, tok(Rel::OrgAdmin), "Org A").await;
    let _org_b = create_org(&app, tok(Rel::OtherOrgMember), "Org B").await;
    set_role(
        &app,
        tok(Rel::OrgAdmin),
        &org_a,
        id(Rel::OrgEditor),
        "editor",
    )
    .await;
    set_role(
        &app,
        tok(Rel::OrgAdmin),
        &org_a,
        id(Rel::OrgViewer),
        "viewer",
    )
    .await;
    set_role(
        &app,
        tok(Rel::OrgAdmin),
        &org_a,
        id(Rel::DemotedAuthor),
        "editor",
    )
    .await;

    // Per published flag: a main document for read/update/share, and one fresh document per
    // relation for its delete cell. All written by the author while still an editor.
    let mut main_doc = Vec::new(); // index: published as usize
    let mut delete_docs = Vec::new(); // [published as usize][relation]
    for published in [false, true] {
        let main = create_doc(
            &app,
            tok(Rel::DemotedAuthor),
            &org_a,
            &format!("Main {published}"),
            published,
        )
        .await;
        let mut fresh = Vec::new();
        for (i, _) in RELS.iter().enumerate() {
            fresh.push(
                create_doc(
                    &app,
                    tok(Rel::DemotedAuthor),
                    &org_a,
                    &format!("Del {published} {i}"),
                    published,
                )
                .await,
            );
        }
        for doc in std::iter::once(&main).chain(fresh.iter()) {
            assert_eq!(
                share(
                    &app,
                    tok(Rel::DemotedAuthor),
                    doc,
                    id(Rel::SharedViewer),
                    "viewer"
                )
                .await,
                204
            );
            assert_eq!(
                share(
                    &app,
                    tok(Rel::DemotedAuthor),
                    doc,
                    id(Rel::SharedEditor),
                    "editor"
                )
                .await,
                204
            );
        }
        main_doc.push(main);
        delete_docs.push(fresh);
    }
    set_role(
        &app,
        tok(Rel::OrgAdmin),
        &org_a,
        id(Rel::DemotedAuthor),
        "viewer",
    )
    .await;

    // /authz/check: the decision of every cell agrees with the table (on the main document,
    // which has the same attributes as the delete documents), and chosen cells name their policies.
    let mut failures = Vec::new();
    for (rel, published, statuses) in TABLE {
        for (act, status) in ACTS.iter().zip(statuses) {
            let doc = &main_doc[usize::from(published)];
            let check = json_of(
                http.post(app.url("/authz/check"))
                    .bearer_auth(tok(rel))
                    .json(
                        &json!({"action": act.name(), "resource": {"type": "Document", "id": doc}}),
                    )
                    .send()
                    .await
                    .unwrap(),
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

    // Every HTTP cell.
    let mut cells = 0;
    for (rel, published, statuses) in TABLE {
        for (act, want) in ACTS.iter().zip(statuses) {
            let doc = match act {
                Act::Delete => &delete_docs[usize::from(published)][rel_index(rel)],
                _ => &main_doc[usize::from(published)],
            };
            let got = perform(&app, tok(rel), *act, doc, &third_id).await;
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
        let doc = &delete_docs[usize::from(published)][rel_index(rel)];
        let status = http
            .get(app.url(&format!("/documents/{doc}")))
            .bearer_auth(tok(Rel::OrgAdmin))
            .send()
            .await
            .unwrap()
            .status();
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
        let doc = json_of(
            http.get(app.url(&format!("/documents/{}", main_doc[usize::from(published)])))
                .bearer_auth(tok(Rel::OrgAdmin))
                .send()
                .await
                .unwrap(),
        )
        .await;
        if doc["title"] != "Edited" {
            failures.push(format!(
                "main document published={published} was not edited: {doc}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cell(s) disagree with the policy table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
