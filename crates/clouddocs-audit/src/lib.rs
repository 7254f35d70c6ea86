//! The CloudDocs audit log, pure and free of I/O: the event type, its canonical encoding,
//! the SHA-256 hash chain that links each event to the one before, and offline
//! verification that names the first broken link.

pub mod canonical;
pub mod chain;
pub mod event;
pub mod verify;

pub use chain::{GENESIS_HASH, compute_hash, seal};
pub use event::{AuditEvent, NewEvent, Outcome};
pub use verify::{ChainError, ChainVerifier, VerifyReport, verify_chain};
