//! The audit log's rows and chain head. Sealing (hashing) happens in the service layer with
//! `clouddocs-audit`; this module only claims sequence numbers and stores rows.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored audit event
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// Position in the chain, from 1, gapless
    pub seq: i64,
    /// Unix milliseconds
    pub at: i64,
    /// Who acted (user or client id)
    pub actor: Option<String>,
    /// What happened, e.g. `auth.login`
    pub action: String,
    /// What it happened to
    pub target: Option<String>,
    /// `success`, `failure` or `denied`
    pub outcome: String,
    /// Client address
    pub ip: Option<String>,
    /// Request id
    pub request_id: Option<String>,
    /// Structured extras (JSON text), never secrets
    pub detail: String,
    /// The org the event concerns, for org admins' view
    pub org_id: Option<String>,
    /// Previous event's hash
    pub prev_hash: String,
    /// This event's hash
    pub hash: String,
}

/// Filters of `GET /audit`
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor
    pub actor: Option<String>,
    /// Only this action
    pub action: Option<String>,
    /// Only this target
    pub target: Option<String>,
    /// From this time (unix ms, inclusive)
    pub from: Option<i64>,
    /// Until this time (unix ms, exclusive)
    pub to: Option<i64>,
    /// Only events of these orgs (`None` = every event)
    pub orgs: Option<Vec<String>>,
    /// Cursor: only events with a smaller seq
    pub before: Option<i64>,
}

const COLUMNS: &str =
    "seq, at, actor, action, target, outcome, ip, request_id, detail, org_id, prev_hash, hash";

/// Claims the next sequence number and returns it with the previous hash. The row lock
/// (PostgreSQL) or write lock (SQLite) taken here is held until the caller's transaction
/// ends, which serializes appenders.
pub async fn claim_next(conn: &mut AnyConnection) -> Result<(i64, String), StoreError> {
    Ok(
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(conn)
            .await?,
    )
}

/// Claims `count` consecutive sequence numbers at once (a batch of events); returns the
/// first of them and the hash before it. Locks like [`claim_next`].
pub async fn claim_many(conn: &mut AnyConnection, count: i64) -> Result<(i64, String), StoreError> {
    let (last, hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(count)
            .fetch_one(conn)
            .await?;
    Ok((last - count + 1, hash))
}

/// Rows per multi-row INSERT, largest first: a batch is cut greedily into these, so every
/// connection prepares (and caches) at most four INSERT statements, whatever the batch
/// sizes; 64 rows × 12 binds stays far below SQLite's and PostgreSQL's bind limits
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// Cuts `rows` into slices of the [`CHUNKS`] sizes
fn chunked(mut rows: &[AuditRow]) -> Vec<&[AuditRow]> {
    let mut out = Vec::new();
    for size in CHUNKS {
        while rows.len() >= size {
            let (head, tail) = rows.split_at(size);
            out.push(head);
            rows = tail;
        }
    }
    out
}

/// Stores consecutive sealed events and moves the head to the last one
pub async fn append_many(conn: &mut AnyConnection, rows: &[AuditRow]) -> Result<(), StoreError> {
    let Some(last) = rows.last() else {
        return Ok(());
    };
    for chunk in chunked(rows) {
        // INVARIANT: only `$n` placeholders are formatted in; every value is bound.
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cols: Vec<String> = (1..=12).map(|c| format!("${}", r * 12 + c)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.seq)
                .bind(row.at)
                .bind(&row.actor)
                .bind(&row.action)
                .bind(&row.target)
                .bind(&row.outcome)
                .bind(&row.ip)
                .bind(&row.request_id)
                .bind(&row.detail)
                .bind(&row.org_id)
                .bind(&row.prev_hash)
                .bind(&row.hash);
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&last.hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a sealed event and moves the head to it
pub async fn append(conn: &mut AnyConnection, row: &AuditRow) -> Result<(), StoreError> {
    append_many(conn, std::slice::from_ref(row)).await
}

/// The chain's head: last seq and hash
pub async fn head(conn: &mut AnyConnection) -> Result<(i64, String), StoreError> {
    Ok(
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// Events in chain order after `after_seq`, at most `limit` (for verification)
pub async fn chain_after(
    conn: &mut AnyConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
    )))
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One page of events, newest first
pub async fn list(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
         AND ($3 IS NULL OR target = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
         AND ($6 IS NULL OR seq < $6)"
    );
    let orgs = filter.orgs.as_deref().unwrap_or_default();
    if filter.orgs.is_some() {
        // INVARIANT: only `$n` placeholders are formatted in; the org ids are bound.
        let placeholders: Vec<String> = (0..orgs.len()).map(|i| format!("${}", i + 8)).collect();
        if placeholders.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND org_id IN ({})", placeholders.join(", ")));
        }
    }
    sql.push_str(" ORDER BY seq DESC LIMIT $7");
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&filter.actor)
        .bind(&filter.action)
        .bind(&filter.target)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.before)
        .bind(limit);
    for org in orgs {
        query = query.bind(org);
    }
    Ok(query.fetch_all(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64) -> AuditRow {
        AuditRow {
            seq,
            at: 0,
            actor: None,
            action: "a".to_owned(),
            target: None,
            outcome: "success".to_owned(),
            ip: None,
            request_id: None,
            detail: "{}".to_owned(),
            org_id: None,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn batches_are_cut_into_few_statement_shapes_in_order() {
        for n in 0..300 {
            let rows: Vec<AuditRow> = (0..n).map(row).collect();
            let chunks = chunked(&rows);
            assert!(chunks.iter().all(|c| CHUNKS.contains(&c.len())));
            let seqs: Vec<i64> = chunks
                .iter()
                .flat_map(|c| c.iter().map(|r| r.seq))
                .collect();
            assert_eq!(seqs, (0..n).collect::<Vec<_>>(), "every row once, in order");
        }
    }
}
