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

/// An org of the reader's, and how much of it the default policy lets the reader see
#[derive(Debug, Clone)]
pub struct OrgReach {
    /// The org
    pub org_id: String,
    /// Every document (editors and admins), not only the published ones (viewers)
    pub unpublished: bool,
}

/// A candidate row of the document list, with the reader's own share of it
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReadableRow {
    /// The document
    #[sqlx(flatten)]
    pub document: DocumentRow,
    /// `viewer` or `editor` when the document is shared with the reader
    pub my_share: Option<String>,
}

/// One page of the documents `user_id` may read under the default policy, newest first,
/// each with the reader's own share of it.
///
/// This is the SQL form of the default `read` rule (author, shared with, org editor/admin,
/// or org member of a published document), given the reader's orgs; the policy engine
/// still decides each row. Each way of reading is its own index-ordered branch (documents
/// by author, shares by user, documents by org), cut at `limit` before they are merged,
/// so a page costs about `limit` rows per branch however large the table is and however
/// few of its documents the reader may see.
pub async fn list_readable(
    conn: &mut AnyConnection,
    user_id: &str,
    orgs: &[OrgReach],
    filter: &ListFilter,
    limit: i64,
) -> Result<Vec<ReadableRow>, StoreError> {
    let pattern = filter.q.as_ref().map(|q| {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    // INVARIANT: only `$n` placeholders, column names and fixed SQL are formatted in; every
    // value is bound, in the order of the placeholders: user, limit, the filters present,
    // then one org id per org branch.
    let mut next = 3;
    let mut placeholder = || {
        next += 1;
        format!("${}", next - 1)
    };
    let mut filters = String::new();
    if filter.org_id.is_some() {
        filters.push_str(&format!(" AND x.org_id = {}", placeholder()));
    }
    if pattern.is_some() {
        filters.push_str(&format!(
            " AND LOWER(x.title) LIKE {} ESCAPE '\\'",
            placeholder()
        ));
    }
    if filter.published.is_some() {
        filters.push_str(&format!(" AND x.published = {}", placeholder()));
    }
    if filter.before.is_some() {
        filters.push_str(&format!(" AND x.id < {}", placeholder()));
    }
    let mut branches = vec![
        format!(
            "SELECT x.id FROM documents x WHERE x.author_id = $1{filters} ORDER BY x.id DESC LIMIT $2"
        ),
        format!(
            "SELECT x.id FROM document_shares s JOIN documents x ON x.id = s.document_id \
             WHERE s.user_id = $1{filters} ORDER BY s.document_id DESC LIMIT $2"
        ),
    ];
    for org in orgs {
        let published = if org.unpublished {
            ""
        } else {
            " AND x.published = 1"
        };
        branches.push(format!(
            "SELECT x.id FROM documents x WHERE x.org_id = {}{published}{filters} \
             ORDER BY x.id DESC LIMIT $2",
            placeholder()
        ));
    }
    let union = branches
        .iter()
        .enumerate()
        .map(|(i, branch)| format!("SELECT id FROM ({branch}) b{i}"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    let sql = format!(
        "SELECT {COLUMNS}, \
         (SELECT s.role FROM document_shares s WHERE s.document_id = d.id AND s.user_id = $1) AS my_share \
         FROM documents d WHERE d.id IN ({union}) ORDER BY d.id DESC LIMIT $2"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(limit);
    if let Some(org_id) = &filter.org_id {
        query = query.bind(org_id);
    }
    if let Some(pattern) = pattern {
        query = query.bind(pattern);
    }
    if let Some(published) = filter.published {
        query = query.bind(i64::from(published));
    }
    if let Some(before) = &filter.before {
        query = query.bind(before);
    }
    for org in orgs {
        query = query.bind(&org.org_id);
    }
    Ok(query.fetch_all(conn).await?)
}
