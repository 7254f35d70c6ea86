//! Requests a test sends, spelled once: a generic [`TestApp::call`] and typed helpers for
//! the steps most scenarios share.

use serde_json::{Value, json};

use crate::{PASSWORD, TestApp};

/// How a request authenticates
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// No credential
    None,
    /// `Authorization: Bearer …`
    Bearer(&'a str),
    /// `X-API-Key: …`
    ApiKey(&'a str),
    /// A signed-in browser: its cookie, and `X-CSRF-Token` on unsafe methods
    Session(&'a Session),
}

impl TestApp {
    /// Sends `method path` with `auth` and, if given, a JSON `body`; returns the status and
    /// the JSON answer (`Value::Null` for an empty or non-JSON body)
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let client = match auth {
            Auth::Session(session) => session.client.clone(),
            _ => reqwest::Client::new(),
        };
        let safe = matches!(method, reqwest::Method::GET | reqwest::Method::HEAD);
        let mut request = client.request(method, self.url(path));
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::ApiKey(key) => request.header("x-api-key", key),
            Auth::Session(session) if !safe => request.header("x-csrf-token", &session.csrf),
            Auth::Session(_) => request,
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("response body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /orgs` as `token`; asserts 201 and returns the org id
    pub async fn create_org(&self, token: &str, name: &str) -> String {
        let (status, org) = self
            .call(
                reqwest::Method::POST,
                "/orgs",
                Auth::Bearer(token),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "creating org {name}: {org}");
        org["id"].as_str().expect("org id").to_owned()
    }

    /// `POST /orgs/{org}/documents` as `token`; asserts 201 and returns the document id
    pub async fn create_document(&self, token: &str, org: &str, title: &str) -> String {
        let (status, doc) = self
            .call(
                reqwest::Method::POST,
                &format!("/orgs/{org}/documents"),
                Auth::Bearer(token),
                Some(json!({"title": title, "body": "text"})),
            )
            .await;
        assert_eq!(status, 201, "creating document {title}: {doc}");
        doc["id"].as_str().expect("document id").to_owned()
    }

    /// `PUT path {"role": role}` as `token`; returns the status
    async fn put_role(&self, token: &str, path: &str, role: &str) -> reqwest::StatusCode {
        let body = Some(json!({"role": role}));
        let (status, _) = self
            .call(reqwest::Method::PUT, path, Auth::Bearer(token), body)
            .await;
        status
    }

    /// `PUT /documents/{doc}/shares/{user}` as `token` with `role`; returns the status
    pub async fn share(
        &self,
        token: &str,
        doc: &str,
        user: &str,
        role: &str,
    ) -> reqwest::StatusCode {
        let path = format!("/documents/{doc}/shares/{user}");
        self.put_role(token, &path, role).await
    }

    /// `PUT /orgs/{org}/members/{user}` as `token` with `role`; returns the status
    pub async fn add_member(
        &self,
        token: &str,
        org: &str,
        user: &str,
        role: &str,
    ) -> reqwest::StatusCode {
        let path = format!("/orgs/{org}/members/{user}");
        self.put_role(token, &path, role).await
    }

    /// `POST /me/api-keys` as `token`; asserts 201 and returns `(id, key)`
    pub async fn api_key(&self, token: &str, name: &str, scopes: &[&str]) -> (String, String) {
        let (status, key) = self
            .call(
                reqwest::Method::POST,
                "/me/api-keys",
                Auth::Bearer(token),
                Some(json!({"name": name, "scopes": scopes})),
            )
            .await;
        assert_eq!(status, 201, "creating API key {name}: {key}");
        (
            key["id"].as_str().expect("key id").to_owned(),
            key["key"].as_str().expect("key").to_owned(),
        )
    }

    /// `GET /audit/verify` as a platform admin's `token`; asserts 200 and returns the report
    pub async fn audit_verify(&self, token: &str) -> Value {
        let (status, report) = self
            .call(
                reqwest::Method::GET,
                "/audit/verify",
                Auth::Bearer(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "verifying the audit chain: {report}");
        report
    }

    /// A new "browser": an HTTP client with its own cookie jar
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }

    /// `base` + `path`
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `POST /auth/register`
    pub async fn register(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/auth/register"))
            .json(&json!({"email": email, "password": password, "display_name": "Test User"}))
            .send()
            .await
            .expect("register request")
    }

    /// `POST /auth/login` (JSON)
    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request")
    }

    /// Registers `email` with [`PASSWORD`], signs in with a new browser, and returns the
    /// browser, the CSRF token and the user id
    pub async fn signed_in(&self, email: &str) -> Session {
        let client = self.browser();
        let registered = self.register(&client, email, PASSWORD).await;
        assert_eq!(registered.status(), 201, "registering {email}");
        let user: Value = registered.json().await.expect("user json");
        let login = self.login(&client, email, PASSWORD).await;
        assert_eq!(login.status(), 200, "signing in {email}");
        let body: Value = login.json().await.expect("login json");
        Session {
            client,
            csrf: body["csrf_token"].as_str().expect("csrf token").to_owned(),
            user_id: user["id"].as_str().expect("user id").to_owned(),
        }
    }

    /// `POST path` with a form body, authenticated as the OAuth client `(id, secret)` with
    /// `client_secret_basic` if one is given
    pub async fn post_form(
        &self,
        path: &str,
        client: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new().post(self.url(path)).form(form);
        if let Some((id, secret)) = client {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.expect("form request")
    }

    /// `POST /oauth/token` with the `password` grant, as FastAPI's `OAuth2PasswordRequestForm` sends it
    pub async fn password_grant(
        &self,
        email: &str,
        password: &str,
        scope: &str,
    ) -> reqwest::Response {
        let form = [
            ("grant_type", "password"),
            ("username", email),
            ("password", password),
            ("scope", scope),
        ];
        self.post_form("/oauth/token", None, &form).await
    }

    /// Registers a user and returns `(user_id, access_token, refresh_token)` from the password grant
    pub async fn user_with_tokens(&self, email: &str, scope: &str) -> (String, String, String) {
        let registered = self
            .register(&reqwest::Client::new(), email, PASSWORD)
            .await;
        assert_eq!(registered.status(), 201, "registering {email}");
        let user: Value = registered.json().await.expect("user json");
        let (access, refresh) = self.tokens(email, PASSWORD, scope).await;
        (user["id"].as_str().expect("id").to_owned(), access, refresh)
    }

    /// The password grant for an existing user; asserts 200 and returns
    /// `(access_token, refresh_token)`
    pub async fn tokens(&self, email: &str, password: &str, scope: &str) -> (String, String) {
        let response = self.password_grant(email, password, scope).await;
        assert_eq!(response.status(), 200, "password grant for {email}");
        let body: Value = response.json().await.expect("token json");
        (
            body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        )
    }

    /// `POST /oauth/token` with the `refresh_token` grant
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.post_form("/oauth/token", None, &form).await
    }

    /// `GET path` with a bearer token; asserts a 200 and returns the JSON body
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// `POST /oauth/token` `grant_type=client_credentials` with `client_secret_basic`
    pub async fn client_credentials(&self, client_id: &str, secret: &str) -> reqwest::Response {
        let form = [("grant_type", "client_credentials")];
        self.post_form("/oauth/token", Some((client_id, secret)), &form)
            .await
    }

    /// `GET /me` with a bearer token
    pub async fn me_with_bearer(&self, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url("/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me request")
    }

    /// A platform admin's access token (with the `admin` scope)
    pub async fn admin_token(&self, email: &str) -> String {
        let registered = self
            .register(&reqwest::Client::new(), email, PASSWORD)
            .await;
        let user: Value = registered.json().await.expect("user json");
        self.promote_to_platform_admin(user["id"].as_str().expect("id"))
            .await;
        let response = self.password_grant(email, PASSWORD, "").await;
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Registers an OAuth client as a platform admin; returns `(client_id, client_secret)`
    pub async fn register_client(
        &self,
        admin_token: &str,
        body: Value,
    ) -> (String, Option<String>) {
        let response = reqwest::Client::new()
            .post(self.url("/admin/clients"))
            .bearer_auth(admin_token)
            .json(&body)
            .send()
            .await
            .expect("client registration");
        assert_eq!(response.status(), 201, "client registration");
        let v: Value = response.json().await.expect("client json");
        (
            v["client_id"].as_str().expect("client id").to_owned(),
            v["client_secret"].as_str().map(str::to_owned),
        )
    }

    /// Registers, as a platform admin, a confidential `client_credentials` client with the
    /// `documents:read` scope; returns `(client_id, client_secret)`
    pub async fn service_client(&self, admin_token: &str, name: &str) -> (String, String) {
        let body = json!({
            "name": name,
            "grant_types": ["client_credentials"],
            "scopes": ["documents:read"],
            "confidential": true,
        });
        let (id, secret) = self.register_client(admin_token, body).await;
        (id, secret.expect("a confidential client has a secret"))
    }

    /// Makes a user a platform admin directly in the database (what `users create --admin` does).
    /// This bypasses the server's profile cache (SQLite): promote before the user's first
    /// `GET /me`, as `users create --admin` creates the admin before it ever signs in.
    pub async fn promote_to_platform_admin(&self, user_id: &str) {
        sqlx::query("UPDATE users SET platform_admin = 1 WHERE id = $1")
            .bind(user_id)
            .execute(self.state.svc.db().pool())
            .await
            .expect("promote");
    }
}

/// A signed-in browser
pub struct Session {
    /// The browser (holds the session cookie)
    pub client: reqwest::Client,
    /// The CSRF token to send in `X-CSRF-Token`
    pub csrf: String,
    /// The user's id
    pub user_id: String,
}

/// The `items` of a `{items, next_cursor}` list answer, usable as the `Vec` it wraps
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Items {
    items: Vec<Value>,
    /// The cursor of the next page, if any
    pub next_cursor: Option<String>,
}

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}
