//! Storage for CloudDocs: SQL persistence on SQLite or PostgreSQL, and ephemeral state
//! (token denylist, rate-limit counters) in memory or Redis.
//!
//! The SQL adapter is written once, in portable SQL over sqlx's `Any` driver: the backend
//! is chosen once, from the database URL at startup, and no query branches on it. Each
//! backend keeps its own migration directory so their DDL can diverge where it must.
//! Query functions take `&mut AnyConnection`, so a use case can run several of them in
//! one transaction together with its audit event.

mod db;
pub mod ephemeral;
mod error;
pub mod sql;

pub use db::{Backend, Db, Tx};
pub use error::StoreError;
pub use sqlx::AnyConnection as Conn;
