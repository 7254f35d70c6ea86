//! Documents and their shares.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored document
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    /// Document id
    pub id: String,
    /// Owning org
    pub org_id: String,
    /// Author
    pub author_id: String,
    /// Title
    pub title: String,
    /// Body
    pub body: String,
    published: i64,
    /// Creation time
    pub created_at: i64,
    /// Last change
    pub updated_at: i64,
}

impl DocumentRow {
    /// A row ready to insert
    pub fn new(
        id: String,
        org_id: String,
        author_id: String,
        title: String,
        body: String,
        published: bool,
        now: i64,
    ) -> Self {
        Self {
            id,
            org_id,
            author_id,
            title,
            body,
            published: i64::from(published),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether org members may read it
    pub fn published(&self) -> bool {
        super::flag(self.published)
    }

    /// Sets the published flag
    pub fn set_published(&mut self, published: bool) {
        self.published = i64::from(published);
    }
}

/// A share of a document with a user
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRow {
    /// The user shared with
    pub user_id: String,
    /// `viewer` or `editor`
    pub role: String,
}

/// Filters of the document list
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this org
    pub org_id: Option<String>,
    /// Case-insensitive substring of the title
    pub q: Option<String>,
    /// Only published (true) or unpublished (false)
    pub published: Option<bool>,
    /// Only ids below this (the cursor)
    pub before: Option<String>,
}

const COLUMNS: &str =
    "d.id, d.org_id, d.author_id, d.title, d.body, d.published, d.created_at, d.updated_at";

/// Stores a document
pub async fn insert(conn: &mut AnyConnection, d: &DocumentRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO documents (id, org_id, author_id, title, body, published, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&d.id)
    .bind(&d.org_id)
    .bind(&d.author_id)
    .bind(&d.title)
    .bind(&d.body)
    .bind(d.published)
    .bind(d.created_at)
    .bind(d.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a document
pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM documents d WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Writes title, body and published
pub async fn update(conn: &mut AnyConnection, d: &DocumentRow, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE documents SET title = $1, body = $2, published = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&d.title)
    .bind(&d.body)
    .bind(d.published)
    .bind(now)
    .bind(&d.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a document (its shares cascade)
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM documents WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A document's shares
pub async fn shares(
    conn: &mut AnyConnection,
    document_id: &str,
) -> Result<Vec<ShareRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT user_id, role FROM document_shares WHERE document_id = $1 ORDER BY user_id",
    )
    .bind(document_id)
    .fetch_all(conn)
    .await?)
}

/// Shares for many documents at once (one query per page, not per row)
pub async fn shares_of_readable(
    conn: &mut AnyConnection,
    user_id: &str,
    document_ids: &[String],
) -> Result<Vec<(String, String, String)>, StoreError> {
    if document_ids.is_empty() {
        return Ok(Vec::new());
    }
    // INVARIANT: only `$n` placeholders are formatted in; the values are bound.
    let placeholders: Vec<String> = (0..document_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "SELECT document_id, user_id, role FROM document_shares WHERE user_id = $1 AND document_id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id);
    for id in document_ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(conn).await?)
}

/// Shares or re-shares a document with a user
pub async fn upsert_share(
    conn: &mut AnyConnection,
    document_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO document_shares (document_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (document_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(document_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a share; false when there was none
pub async fn delete_share(
    conn: &mut AnyConnection,
    document_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM document_shares WHERE document_id = $1 AND user_id = $2")
        .bind(document_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One page of the documents `user_id` may read under the default policy, newest first.
///
/// This is the SQL form of the default `read` rule (author, shared with, org editor/admin,
/// or org member of a published document); the policy engine still decides each row.
pub async fn list_readable(
    conn: &mut AnyConnection,
    user_id: &str,
    filter: &ListFilter,
    limit: i64,
) -> Result<Vec<DocumentRow>, StoreError> {
    let pattern = filter.q.as_ref().map(|q| {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM documents d WHERE \
         (d.author_id = $1 \
          OR EXISTS (SELECT 1 FROM document_shares s WHERE s.document_id = d.id AND s.user_id = $1) \
          OR EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = d.org_id AND m.user_id = $1 \
                     AND (m.role IN ('admin', 'editor') OR d.published = 1))) \
         AND ($2 IS NULL OR d.org_id = $2) \
         AND ($3 IS NULL OR LOWER(d.title) LIKE $3 ESCAPE '\\') \
         AND ($4 IS NULL OR d.published = $4) \
         AND ($5 IS NULL OR d.id < $5) \
         ORDER BY d.id DESC LIMIT $6"
    )))
    .bind(user_id)
    .bind(&filter.org_id)
    .bind(pattern)
    .bind(filter.published.map(i64::from))
    .bind(&filter.before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
