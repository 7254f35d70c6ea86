//! Organizations and their members.

use sqlx::AnyConnection;

use crate::StoreError;

/// An organization
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    /// Org id
    pub id: String,
    /// Name
    pub name: String,
    /// Creator
    pub created_by: String,
    /// Creation time
    pub created_at: i64,
}

/// An org as its member sees it
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyOrgRow {
    /// Org id
    pub id: String,
    /// Name
    pub name: String,
    /// The caller's role
    pub role: String,
    /// Creation time
    pub created_at: i64,
}

/// A member of an org
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    /// The user
    pub user_id: String,
    /// Their email
    pub email: String,
    /// Their display name
    pub display_name: String,
    /// `admin`, `editor` or `viewer`
    pub role: String,
    /// Since when
    pub created_at: i64,
}

/// Creates an org
pub async fn insert(conn: &mut AnyConnection, org: &OrgRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO orgs (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.created_by)
        .bind(org.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds or changes a membership
pub async fn upsert_member(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a membership; false when there was none
pub async fn delete_member(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's role in an org, if a member
pub async fn role_of(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(r,)| r))
}

/// How many admins an org has
pub async fn count_admins(conn: &mut AnyConnection, org_id: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'admin'")
            .bind(org_id)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// The orgs a user belongs to, with their role
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<MyOrgRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.name, m.role, o.created_at FROM orgs o JOIN memberships m ON m.org_id = o.id \
         WHERE m.user_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// An org's members
pub async fn list_members(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Vec<MemberRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at FROM memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.created_at, m.user_id",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// Whether an org with this id exists
pub async fn exists(conn: &mut AnyConnection, org_id: &str) -> Result<bool, StoreError> {
    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}
