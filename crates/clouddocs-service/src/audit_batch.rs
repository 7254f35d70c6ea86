//! Group commit for the audit events that are a transaction of their own (security events
//! without a state change: token issuance for `client_credentials`, failed logins,
//! denials, revocations).
//!
//! Writing each one in its own transaction makes every such request pay a commit, and on
//! SQLite they all queue for the one writer lock. Instead, callers hand the event to one
//! writer task per process and wait: the task takes every event waiting at that moment,
//! claims their sequence numbers with one `UPDATE audit_head`, seals them into the chain in
//! order, stores them with multi-row INSERTs and commits once. A caller's `audit` returns
//! only after the commit that holds its event, so nothing is acknowledged before it is
//! durable; if the batch fails, every caller in it gets the error, exactly as a failed
//! transaction of its own would have given. Events that record a state change still go in
//! the change's own transaction (`record`).

use clouddocs_store::sql::audit;
use clouddocs_store::{Db, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{Entry, RequestMeta, seal_row};
use crate::{ServiceError, now_ms};

/// Events one commit takes at most
const MAX_BATCH: usize = 512;
/// Events waiting for the writer at most; further callers wait for room
const QUEUE: usize = 4096;

struct Pending {
    entry: Entry,
    meta: RequestMeta,
    done: oneshot::Sender<Result<(), BatchFailure>>,
}

/// The handle callers enqueue through; the writer task stops when the last handle is gone
#[derive(Clone)]
pub(crate) struct AuditBatcher {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for AuditBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditBatcher")
    }
}

/// Why a batch was not written, as every caller in it learns it (a `StoreError` cannot be
/// cloned to each of them, so they get its message and whether it was an outage)
#[derive(Debug, Clone)]
struct BatchFailure {
    message: String,
    outage: bool,
}

impl From<BatchFailure> for ServiceError {
    fn from(failure: BatchFailure) -> Self {
        ServiceError::AuditWriter {
            message: failure.message,
            outage: failure.outage,
        }
    }
}

fn stopped() -> ServiceError {
    ServiceError::AuditWriter {
        message: "the audit writer has stopped".to_owned(),
        outage: false,
    }
}

impl AuditBatcher {
    /// Starts the writer task on the current runtime
    pub(crate) fn spawn(db: Db) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, receiver));
        Self { queue }
    }

    /// Appends `entry` to the chain; returns once the commit holding it has landed
    pub(crate) async fn append(&self, entry: Entry, meta: RequestMeta) -> Result<(), ServiceError> {
        let (done, result) = oneshot::channel();
        self.queue
            .send(Pending { entry, meta, done })
            .await
            .map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?.map_err(Into::into)
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (entries, waiters): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|p| ((p.entry, p.meta), p.done)).unzip();
        let result = write(&db, entries).await.map_err(|err| {
            tracing::error!(error = %err, "audit batch not written");
            BatchFailure {
                outage: err.is_outage(),
                message: err.to_string(),
            }
        });
        for done in waiters {
            // A caller that gave up (request cancelled) no longer listens: nothing to do.
            let _ = done.send(result.clone());
        }
    }
}

async fn write(db: &Db, entries: Vec<(Entry, RequestMeta)>) -> Result<(), StoreError> {
    let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    let (first, mut prev) = audit::claim_many(&mut tx, count).await?;
    let at = now_ms();
    let mut rows = Vec::with_capacity(entries.len());
    for (seq, (entry, meta)) in (first..).zip(entries) {
        let row = seal_row(entry, meta, at, seq, &prev);
        prev.clone_from(&row.hash);
        rows.push(row);
    }
    audit::append_many(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(())
}
