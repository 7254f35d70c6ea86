//! The active Cedar policy set (and its schema extension), versioned: the newest row wins.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored policy set
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicySetRow {
    /// Version id (UUIDv7)
    pub id: String,
    /// The Cedar policies
    pub policies: String,
    /// Other applications' schema namespaces, appended to the CloudDocs schema
    pub schema_extension: String,
}

/// Stores a new active policy set
pub async fn insert(
    conn: &mut AnyConnection,
    row: &PolicySetRow,
    created_by: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO policy_sets (id, policies, schema_extension, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&row.id)
        .bind(&row.policies)
        .bind(&row.schema_extension)
        .bind(created_by)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest policy set
pub async fn latest(conn: &mut AnyConnection) -> Result<Option<PolicySetRow>, StoreError> {
    Ok(sqlx::query_as("SELECT id, policies, schema_extension FROM policy_sets ORDER BY created_at DESC, id DESC LIMIT 1")
        .fetch_optional(conn)
        .await?)
}
