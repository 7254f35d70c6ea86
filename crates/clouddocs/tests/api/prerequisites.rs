//! A missing test prerequisite is a visible skip locally and a failure in CI: the test
//! binary reruns one of its own PostgreSQL tests with the database URL removed.

use std::process::Output;

/// A PostgreSQL variant of an ordinary scenario
const POSTGRES_TEST: &str =
    "documents::a_shared_viewer_reads_and_lists_the_document_but_cannot_edit_it::postgres";

/// Runs `POSTGRES_TEST` alone in a child process of this test binary, without
/// `CLOUDDOCS_TEST_DATABASE_URL`, and with `CLOUDDOCS_TEST_REQUIRE_ALL` as given
fn rerun_without_postgres(require_all: Option<&str>) -> Output {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([POSTGRES_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env_remove("CLOUDDOCS_TEST_DATABASE_URL")
        .env_remove(clouddocs_testkit::REQUIRE_ALL);
    if let Some(value) = require_all {
        command.env(clouddocs_testkit::REQUIRE_ALL, value);
    }
    command.output().unwrap()
}

fn combined(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_missing_database_fails_the_test_when_every_prerequisite_is_required() {
    let output = rerun_without_postgres(Some("1"));
    let text = combined(&output);
    assert!(!output.status.success(), "the run passed: {text}");
    assert!(text.contains("1 failed"), "{text}");
    assert!(
        text.contains("CLOUDDOCS_TEST_REQUIRE_ALL=1 but this test cannot run")
            && text.contains("CLOUDDOCS_TEST_DATABASE_URL is not set"),
        "{text}"
    );
}

#[test]
fn a_missing_database_is_reported_as_skipped_otherwise() {
    let output = rerun_without_postgres(None);
    let text = combined(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the test did not run: {text}");
    assert!(
        text.contains("skipped: CLOUDDOCS_TEST_DATABASE_URL is not set"),
        "{text}"
    );
}
