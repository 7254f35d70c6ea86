//! The API contract as clients read it: the OpenAPI document, answer shapes, ambiguous
//! credentials, list parameters, readiness and where a browser lands after signing in.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    an_api_key_answer_names_each_field_once,
    two_credentials_in_headers_are_a_400,
    a_token_whose_account_is_gone_is_a_401,
    list_parameters_out_of_range_are_refused,
    signing_in_without_next_lands_on_a_page_that_exists,
);

/// The OpenAPI document, which needs no database: one backend suffices
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_declares_query_parameters_and_security() {
    let Some(app) = TestApp::spawn(clouddocs_testkit::Backend::Sqlite).await else {
        return;
    };
    let doc: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for param in operation["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                if param["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter `{name}` is not in the path"
                    );
                }
            }
        }
    }
    let listing = &paths["/documents"]["get"]["parameters"];
    for name in ["q", "org", "published", "cursor", "limit"] {
        let param = listing
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("`{name}` missing: {listing}"));
        assert_eq!(param["in"], "query", "{param}");
        assert_ne!(param["required"], true, "{param}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    assert_eq!(
        schemes["oauth2_password"]["flows"]["password"]["tokenUrl"],
        "/oauth/token"
    );
    assert_eq!(
        schemes["oauth2_code"]["flows"]["authorizationCode"]["authorizationUrl"],
        "/oauth/authorize"
    );
    let me = paths["/me"]["get"]["security"].as_array().unwrap();
    assert!(me.iter().any(|r| r.get("bearer").is_some()), "{me:?}");
    assert!(me.iter().any(|r| r.get("api_key").is_some()), "{me:?}");
    assert!(
        paths["/auth/register"]["post"].get("security").is_none(),
        "registration needs no credential"
    );
}

async fn an_api_key_answer_names_each_field_once(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("keys@example.com", "").await;
    let raw = reqwest::Client::new()
        .post(app.url("/me/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": "ci", "scopes": ["documents:read"]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw.matches("\"id\":").count(), 1, "{raw}");
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert!(body["key"].as_str().unwrap().starts_with("cdk_"));
    assert!(body["id"].is_string());
}

async fn two_credentials_in_headers_are_a_400(app: TestApp) {
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (_, bob, _) = app.user_with_tokens("bob@example.com", "").await;
    let http = reqwest::Client::new();
    let (_, key) = app.api_key(&alice, "k", &["profile"]).await;
    let key = key.as_str();
    let cases: [Vec<(&str, String)>; 3] = [
        vec![
            ("authorization", format!("Bearer {alice}")),
            ("authorization", format!("Bearer {bob}")),
        ],
        vec![("x-api-key", key.to_owned()), ("x-api-key", key.to_owned())],
        vec![
            ("authorization", format!("Bearer {bob}")),
            ("x-api-key", key.to_owned()),
        ],
    ];
    for headers in cases {
        let mut request = http.get(app.url("/me"));
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{headers:?}");
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("exactly one credential"),
            "{problem}"
        );
    }
    // One credential still works.
    assert_eq!(app.me_with_bearer(&alice).await.status(), 200);
}

async fn a_token_whose_account_is_gone_is_a_401(app: TestApp) {
    let (user_id, token, _) = app.user_with_tokens("gone@example.com", "").await;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(&user_id)
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();
    let response = app.me_with_bearer(&token).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{problem}"
    );
}

async fn list_parameters_out_of_range_are_refused(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("lists@example.com", "").await;
    let admin = app.admin_token("root@example.com").await;
    let status = |path: &'static str, token: String| {
        let app = &app;
        async move {
            app.call(Method::GET, path, Auth::Bearer(&token), None)
                .await
                .0
                .as_u16()
        }
    };
    assert_eq!(status("/documents?q=%00", token.clone()).await, 422);
    assert_eq!(status("/documents?q=a%0Ab", token.clone()).await, 422);
    assert_eq!(
        status("/documents?cursor=garbage", token.clone()).await,
        400
    );
    assert_eq!(status("/documents?limit=0", token.clone()).await, 422);
    assert_eq!(status("/documents?limit=101", token.clone()).await, 422);
    assert_eq!(status("/documents?limit=-1", token.clone()).await, 400);
    assert_eq!(status("/documents?limit=100", token.clone()).await, 200);
    assert_eq!(status("/documents?q=report", token.clone()).await, 200);
    assert_eq!(
        status("/admin/users?cursor=garbage", admin.clone()).await,
        400
    );
    assert_eq!(status("/admin/users?limit=0", admin.clone()).await, 422);
    assert_eq!(status("/audit?limit=0", admin.clone()).await, 422);
    assert_eq!(status("/audit?cursor=garbage", admin.clone()).await, 400);
    assert_eq!(status("/admin/users?limit=5", admin).await, 200);
}

async fn signing_in_without_next_lands_on_a_page_that_exists(app: TestApp) {
    let browser = app.browser();
    app.register(&browser, "page@example.com", clouddocs_testkit::PASSWORD)
        .await;
    let login_page = browser.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login_page.status(), 200);
    let html = login_page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let response = browser
        .post(app.url("/login"))
        .form(&[
            ("email", "page@example.com"),
            ("password", clouddocs_testkit::PASSWORD),
            ("csrf_token", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let landed = browser.get(app.url(&location)).send().await.unwrap();
    assert!(
        landed.status().is_success(),
        "{location} answered {}",
        landed.status()
    );
}
