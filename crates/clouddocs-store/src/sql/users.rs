//! User accounts.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored user. `password_hash` never leaves the service layer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// The user's id
    pub id: String,
    /// The normalized email
    pub email: String,
    /// The display name
    pub display_name: String,
    /// The PHC string (argon2id, or a legacy bcrypt hash until first login)
    pub password_hash: String,
    platform_admin: i64,
    disabled: i64,
    /// When the account was created
    pub created_at: i64,
    /// When the account last changed
    pub updated_at: i64,
}

impl UserRow {
    /// A row ready to insert
    pub fn new(
        id: String,
        email: String,
        display_name: String,
        password_hash: String,
        platform_admin: bool,
        now: i64,
    ) -> Self {
        Self {
            id,
            email,
            display_name,
            password_hash,
            platform_admin: i64::from(platform_admin),
            disabled: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether the user is a platform administrator
    pub fn platform_admin(&self) -> bool {
        super::flag(self.platform_admin)
    }

    /// Whether the account is disabled
    pub fn disabled(&self) -> bool {
        super::flag(self.disabled)
    }

    /// Marks the row disabled (an imported account that arrives disabled)
    pub fn set_disabled(&mut self, disabled: bool) {
        self.disabled = i64::from(disabled);
    }
}

const COLUMNS: &str =
    "id, email, display_name, password_hash, platform_admin, disabled, created_at, updated_at";

/// Inserts a user with the confusable skeleton of its email; a taken email is
/// `Conflict { constraint: "users_email_key" }`, a lookalike of one
/// `Conflict { constraint: "users_email_skeleton_key" }`
pub async fn insert(
    conn: &mut AnyConnection,
    user: &UserRow,
    email_skeleton: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, platform_admin, disabled, \
         created_at, updated_at, email_skeleton) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.display_name)
    .bind(&user.password_hash)
    .bind(user.platform_admin)
    .bind(user.disabled)
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(email_skeleton)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user whose email is `email`, or failing that one whose email has the confusable
/// skeleton `skeleton`
pub async fn find_by_email_or_skeleton(
    conn: &mut AnyConnection,
    email: &str,
    skeleton: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email = $1 OR email_skeleton = $2 \
         ORDER BY CASE WHEN email = $1 THEN 0 ELSE 1 END LIMIT 1"
    )))
    .bind(email)
    .bind(skeleton)
    .fetch_optional(conn)
    .await?)
}

/// Users without a stored skeleton (created before skeletons were stored), after id
/// `after`: `(id, email)` of up to `limit` of them, by id
pub async fn missing_skeletons(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, email FROM users WHERE email_skeleton IS NULL AND id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Stores a user's email skeleton; `Conflict { constraint: "users_email_skeleton_key" }`
/// when another user's email already has it
pub async fn set_skeleton(
    conn: &mut AnyConnection,
    id: &str,
    skeleton: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET email_skeleton = $1 WHERE id = $2")
        .bind(skeleton)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Finds a user by normalized email
pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email = $1"
    )))
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// Finds a user by id
pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Sets the display name
pub async fn set_display_name(
    conn: &mut AnyConnection,
    id: &str,
    display_name: &str,
    now: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
        .bind(display_name)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces the password hash (password change, or rehash on login)
pub async fn set_password_hash(
    conn: &mut AnyConnection,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Disables or re-enables an account
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: &str,
    disabled: bool,
    now: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(disabled))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One page of users ordered by id (ids are time-ordered); `after` is the last id seen
pub async fn list(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    )))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
