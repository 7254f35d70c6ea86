//! Problem answers name what went wrong precisely: a 422 about one field says which.

use clouddocs_testkit::{Auth, PASSWORD, TestApp, backends};
use reqwest::Method;
use serde_json::json;

backends!([sqlite, postgres], a_refused_field_is_named_in_the_problem);

async fn a_refused_field_is_named_in_the_problem(app: TestApp) {
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "display_name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "display_name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "display_name": " "}),
            "display_name",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = app
            .call(Method::POST, "/auth/register", Auth::None, Some(body))
            .await;

        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
        assert_eq!(problem["type"], "https://clouddocs.dev/problems/validation");
    }
    let s = app.signed_in("named@example.com").await;
    let (status, problem) = app
        .call(
            Method::POST,
            "/me/password",
            Auth::Session(&s),
            Some(json!({"current_password": PASSWORD, "new_password": "short"})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["field"], "new_password");
    let (status, problem) = app
        .call(
            Method::POST,
            "/auth/login",
            Auth::None,
            Some(json!({"email": "named@example.com", "password": "wrong-password-1"})),
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        problem.get("field").is_none(),
        "no field outside a 422: {problem}"
    );
}
