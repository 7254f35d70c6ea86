//! Platform administration.

use clouddocs_testkit::{Auth, Session, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::Value;

backends!(
    [sqlite, postgres],
    only_platform_admins_list_users,
    the_user_list_pages_with_cursors_and_shows_no_password_hash,
    disabling_a_user_ends_their_sessions_and_blocks_login,
);

/// `GET path` from `session`'s browser
async fn get(app: &TestApp, session: &Session, path: &str) -> (StatusCode, Value) {
    app.call(Method::GET, path, Auth::Session(session), None)
        .await
}

/// `POST /admin/users/{user}/disable` from `admin`'s browser; returns the status
async fn disable(app: &TestApp, admin: &Session, user: &str) -> StatusCode {
    let path = format!("/admin/users/{user}/disable");
    app.call(Method::POST, &path, Auth::Session(admin), None)
        .await
        .0
}

/// The ids on a `{items, next_cursor}` page
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Five signed-in users; returns the first two (the admin-to-be and a plain user)
async fn five_users(app: &TestApp) -> (Session, Session) {
    let admin = app.signed_in("root@example.com").await;
    let user = app.signed_in("user@example.com").await;
    for i in 0..3 {
        app.signed_in(&format!("extra{i}@example.com")).await;
    }
    (admin, user)
}

async fn only_platform_admins_list_users(app: TestApp) {
    let (admin, user) = five_users(&app).await;

    assert_eq!(get(&app, &user, "/admin/users").await.0, 403);
    assert_eq!(get(&app, &admin, "/admin/users").await.0, 403);
    app.promote_to_platform_admin(&admin.user_id).await;
    assert_eq!(get(&app, &admin, "/admin/users").await.0, 200);
}

async fn the_user_list_pages_with_cursors_and_shows_no_password_hash(app: TestApp) {
    let (admin, _) = five_users(&app).await;
    app.promote_to_platform_admin(&admin.user_id).await;

    let (_, first) = get(&app, &admin, "/admin/users?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let mut seen = ids(&first);
    let mut next = Some(cursor.to_owned());
    while let Some(c) = next {
        let (_, page) = get(&app, &admin, &format!("/admin/users?limit=2&cursor={c}")).await;
        seen.extend(ids(&page));
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5);
    let (_, all) = get(&app, &admin, "/admin/users?limit=100").await;
    assert!(
        !all.to_string().contains("$argon2"),
        "no password hashes in the admin list"
    );
}

async fn disabling_a_user_ends_their_sessions_and_blocks_login(app: TestApp) {
    let admin = app.signed_in("admin2@example.com").await;
    app.promote_to_platform_admin(&admin.user_id).await;
    let victim = app.signed_in("mallory@example.com").await;
    assert_eq!(get(&app, &victim, "/me").await.0, 200);

    assert_eq!(disable(&app, &admin, &victim.user_id).await, 200);

    assert_eq!(get(&app, &victim, "/me").await.0, 401);
    let relogin = app
        .login(
            &app.browser(),
            "mallory@example.com",
            clouddocs_testkit::PASSWORD,
        )
        .await;
    assert_eq!(relogin.status(), 401);
    let missing = disable(&app, &admin, "00000000-0000-0000-0000-000000000000").await;
    assert_eq!(missing, 404);
}
