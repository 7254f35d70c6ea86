//! Recording and reading the audit log. Every state change appends its event inside the
//! transaction that makes the change, so neither can land without the other; security
//! events without a state change (failed logins, denials) get a transaction of their own.

use clouddocs_audit::{
    AuditEvent as ChainEvent, ChainError, ChainVerifier, NewEvent, Outcome, seal,
};
use clouddocs_domain::Principal;
use clouddocs_store::Conn;
use clouddocs_store::sql::audit::{self, AuditFilter, AuditRow};
use clouddocs_store::sql::orgs;
use serde::Serialize;
use serde_json::Value;

use crate::{ServiceError, Services, now_ms};

tokio::task_local! {
    /// Who is on the other end of the current request; set by the HTTP layer
    pub static REQUEST_META: RequestMeta;
}

/// Request facts every audit event carries
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client address
    pub ip: Option<String>,
    /// Request id
    pub request_id: Option<String>,
}

/// An event about to be recorded
#[derive(Debug, Clone)]
pub struct Entry {
    actor: Option<String>,
    action: &'static str,
    target: Option<String>,
    outcome: Outcome,
    detail: Value,
    org_id: Option<String>,
}

impl Entry {
    /// A successful `action`
    pub fn success(action: &'static str) -> Self {
        Self {
            actor: None,
            action,
            target: None,
            outcome: Outcome::Success,
            detail: Value::Object(Default::default()),
            org_id: None,
        }
    }

    /// A failed `action` (bad credentials, reuse, invalid input)
    pub fn failure(action: &'static str) -> Self {
        Self {
            outcome: Outcome::Failure,
            ..Self::success(action)
        }
    }

    /// An `action` refused by access control
    pub fn denied(action: &'static str) -> Self {
        Self {
            outcome: Outcome::Denied,
            ..Self::success(action)
        }
    }

    /// Who acted
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// The principal who acted
    pub fn by(self, principal: &Principal) -> Self {
        self.actor(principal.user_id.to_string())
    }

    /// What it concerned
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The org it concerned (org admins see their orgs' events)
    pub fn org(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    /// Structured extras; never secrets
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Seals `entry` as event `seq` after `prev_hash`
pub(crate) fn seal_row(
    entry: Entry,
    meta: RequestMeta,
    at: i64,
    seq: i64,
    prev_hash: &str,
) -> AuditRow {
    let event = seal(
        NewEvent {
            at,
            actor: entry.actor,
            action: entry.action.to_owned(),
            target: entry.target,
            outcome: entry.outcome,
            ip: meta.ip,
            request_id: meta.request_id,
            detail: entry.detail,
        },
        seq,
        prev_hash,
    );
    AuditRow {
        seq: event.seq,
        at: event.at,
        actor: event.actor,
        action: event.action,
        target: event.target,
        outcome: event.outcome.as_str().to_owned(),
        ip: event.ip,
        request_id: event.request_id,
        detail: event.detail.to_string(),
        org_id: entry.org_id,
        prev_hash: event.prev_hash,
        hash: event.hash,
    }
}

fn current_meta() -> RequestMeta {
    REQUEST_META.try_with(Clone::clone).unwrap_or_default()
}

/// Appends one event inside the caller's transaction
pub(crate) async fn record(conn: &mut Conn, entry: Entry) -> Result<(), ServiceError> {
    let (seq, prev_hash) = audit::claim_next(conn).await?;
    let row = seal_row(entry, current_meta(), now_ms(), seq, &prev_hash);
    audit::append(conn, &row).await?;
    Ok(())
}

fn to_event(row: AuditRow) -> Result<ChainEvent, ChainError> {
    let outcome = match row.outcome.as_str() {
        "success" => Outcome::Success,
        "failure" => Outcome::Failure,
        "denied" => Outcome::Denied,
        // An unknown outcome can only come from tampering: it cannot hash correctly.
        _ => return Err(ChainError::HashMismatch { seq: row.seq }),
    };
    let detail =
        serde_json::from_str(&row.detail).map_err(|_| ChainError::HashMismatch { seq: row.seq })?;
    Ok(ChainEvent {
        seq: row.seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        outcome,
        ip: row.ip,
        request_id: row.request_id,
        detail,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

/// An audit event as its readers see it
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// Position in the chain
    pub seq: i64,
    /// Unix milliseconds
    pub at: i64,
    /// Who acted
    pub actor: Option<String>,
    /// What happened
    pub action: String,
    /// What it concerned
    pub target: Option<String>,
    /// `success`, `failure` or `denied`
    pub outcome: String,
    /// Client address
    pub ip: Option<String>,
    /// Request id
    pub request_id: Option<String>,
    /// Extras
    pub detail: Value,
    /// Previous event's hash
    pub prev_hash: String,
    /// This event's hash
    pub hash: String,
}

/// The result of a chain verification
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// Whether every link holds
    pub ok: bool,
    /// Events checked
    pub count: u64,
    /// The head's hash (when ok)
    pub head_hash: Option<String>,
    /// The first broken link (when not ok)
    pub error: Option<String>,
    /// The sequence number of the first broken link (when not ok)
    pub broken_seq: Option<i64>,
}

/// Which audit events to list
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this actor (user or client id)
    pub actor: Option<String>,
    /// Only this action, e.g. `auth.login`
    pub action: Option<String>,
    /// Only this target, e.g. `document:<id>`
    pub target: Option<String>,
    /// Only this org's events
    pub org: Option<String>,
    /// From this time (unix milliseconds, inclusive)
    pub from: Option<i64>,
    /// Until this time (unix milliseconds, exclusive)
    pub to: Option<i64>,
    /// Only events older than this sequence number (the cursor)
    pub before: Option<i64>,
}

impl Services {
    /// Records one event in a transaction of its own (security events without a state change)
    /// (committed together with the other such events waiting at that moment)
    pub async fn audit(&self, entry: Entry) -> Result<(), ServiceError> {
        self.audit_batch.append(entry, current_meta()).await
    }

    /// Events visible to the caller, newest first: everything for platform admins, their
    /// orgs' events for org admins
    pub async fn list_audit(
        &self,
        principal: &Principal,
        query: AuditQuery,
        limit: u32,
    ) -> Result<(Vec<AuditEvent>, Option<String>), ServiceError> {
        let mut filter = AuditFilter {
            actor: query.actor,
            action: query.action,
            target: query.target,
            from: query.from,
            to: query.to,
            orgs: query.org.map(|o| vec![o]),
            before: query.before,
        };
        let mut conn = self.db.acquire().await?;
        if !principal.is_platform_admin() {
            let admin_of: Vec<String> =
                orgs::list_for_user(&mut conn, &principal.user_id.to_string())
                    .await?
                    .into_iter()
                    .filter(|o| o.role == "admin")
                    .map(|o| o.id)
                    .collect();
            if admin_of.is_empty() {
                drop(conn);
                let why = "the audit log is for platform and org admins";
                let decision = clouddocs_authz::Decision::deny(why);
                let refusal = crate::refusals::Refusal {
                    action: "audit.list",
                    target: None,
                    org: None,
                    decision: &decision,
                };
                return Err(self
                    .refuse(principal, refusal, ServiceError::Forbidden(why))
                    .await);
            }
            let wanted = filter.orgs.take();
            filter.orgs = Some(match wanted {
                Some(w) => w.into_iter().filter(|o| admin_of.contains(o)).collect(),
                None => admin_of,
            });
        }
        let rows = audit::list(&mut conn, &filter, i64::from(limit) + 1).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = (rows.len() > limit)
            .then(|| rows.get(limit.saturating_sub(1)).map(|r| r.seq.to_string()))
            .flatten();
        let items = rows
            .into_iter()
            .take(limit)
            .map(|r| AuditEvent {
                seq: r.seq,
                at: r.at,
                actor: r.actor,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
                ip: r.ip,
                request_id: r.request_id,
                detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect();
        Ok((items, next))
    }

    /// Recomputes the whole chain in batches and names the first broken or missing link
    pub async fn verify_audit_chain(&self) -> Result<ChainReport, ServiceError> {
        let mut conn = self.db.acquire().await?;
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        let failed = |err: ChainError, count: u64| {
            let seq = match &err {
                ChainError::HashMismatch { seq } | ChainError::BrokenLink { seq } => Some(*seq),
                ChainError::Gap { expected, .. } => Some(*expected),
                ChainError::FirstNotGenesis => Some(1),
            };
            ChainReport {
                ok: false,
                count,
                head_hash: None,
                error: Some(err.to_string()),
                broken_seq: seq,
            }
        };
        loop {
            let rows = audit::chain_after(&mut conn, after, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                after = row.seq;
                let event = match to_event(row) {
                    Ok(e) => e,
                    Err(err) => return Ok(failed(err, verifier.count())),
                };
                if let Err(err) = verifier.push(&event) {
                    return Ok(failed(err, verifier.count()));
                }
            }
        }
        let (head_seq, head_hash) = audit::head(&mut conn).await?;
        let report = verifier.finish();
        if head_seq != report.last_seq.unwrap_or(0)
            || (report.count > 0 && head_hash != report.head_hash)
        {
            // Events after the last stored one were removed (or the head was rewound).
            return Ok(ChainReport {
                ok: false,
                count: report.count,
                head_hash: None,
                error: Some(format!(
                    "the chain ends at {} but the head is at {head_seq}",
                    report.last_seq.unwrap_or(0)
                )),
                broken_seq: Some(report.last_seq.unwrap_or(0) + 1),
            });
        }
        Ok(ChainReport {
            ok: true,
            count: report.count,
            head_hash: Some(report.head_hash),
            error: None,
            broken_seq: None,
        })
    }
}
