//! Platform administration.

use clouddocs_testkit::{TestApp, backends};
use serde_json::Value;

backends!(
    [sqlite, postgres],
    only_platform_admins_list_users_and_pages_have_cursors,
    disabling_a_user_ends_their_sessions_and_blocks_login,
);

async fn only_platform_admins_list_users_and_pages_have_cursors(app: TestApp) {
    let admin = app.signed_in("root@example.com").await;
    let user = app.signed_in("user@example.com").await;
    for i in 0..3 {
        app.signed_in(&format!("extra{i}@example.com")).await;
    }
    assert_eq!(
        user.client
            .get(app.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        admin
            .client
            .get(app.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    app.promote_to_platform_admin(&admin.user_id).await;

    let first: Value = admin
        .client
        .get(app.url("/admin/users?limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let mut next = Some(cursor.to_owned());
    while let Some(c) = next {
        let page: Value = admin
            .client
            .get(app.url(&format!("/admin/users?limit=2&cursor={c}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5);
    let text = admin
        .client
        .get(app.url("/admin/users?limit=100"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("$argon2"),
        "no password hashes in the admin list"
    );
}

async fn disabling_a_user_ends_their_sessions_and_blocks_login(app: TestApp) {
    let admin = app.signed_in("admin2@example.com").await;
    app.promote_to_platform_admin(&admin.user_id).await;
    let victim = app.signed_in("mallory@example.com").await;
    assert_eq!(
        victim
            .client
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = admin
        .client
        .post(app.url(&format!("/admin/users/{}/disable", victim.user_id)))
        .header("x-csrf-token", &admin.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        victim
            .client
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let relogin = app
        .login(
            &app.browser(),
            "mallory@example.com",
            clouddocs_testkit::PASSWORD,
        )
        .await;
    assert_eq!(relogin.status(), 401);
    let missing = admin
        .client
        .post(app.url("/admin/users/00000000-0000-0000-0000-000000000000/disable"))
        .header("x-csrf-token", &admin.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
