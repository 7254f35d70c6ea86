//! The denylist in the SQL database (single node, or nodes sharing PostgreSQL).
//!
//! On SQLite this process is the database's only server, so it keeps the whole live
//! denylist in memory as well: a revocation is written to the table (it survives a
//! restart) and to the in-memory set, and a check is one hash lookup instead of a query.
//! On PostgreSQL other nodes revoke too, so every check asks the database.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::ephemeral::Denylist;
use crate::{Backend, Db, StoreError, sql::denylist};

/// Denylist rows in `revoked_tokens`, mirrored in memory when this process owns the database
#[derive(Debug)]
pub struct SqlDenylist {
    db: Db,
    /// Key → expiry (unix ms); `Some` only when this process is the only writer (SQLite)
    mirror: Option<RwLock<HashMap<String, i64>>>,
}

impl SqlDenylist {
    /// Over an open database; on SQLite, loads the live entries into memory
    pub async fn open(db: Db, now: i64) -> Result<Self, StoreError> {
        let mirror = if db.backend() == Backend::Sqlite {
            let mut conn = db.acquire().await?;
            let live = denylist::live(&mut conn, now).await?;
            Some(RwLock::new(live.into_iter().collect()))
        } else {
            None
        };
        Ok(Self { db, mirror })
    }

    fn remember(&self, key: &str, expires_at: i64) {
        if let Some(mirror) = &self.mirror {
            let mut map = mirror.write().unwrap_or_else(PoisonError::into_inner);
            let entry = map.entry(key.to_owned()).or_insert(expires_at);
            *entry = (*entry).max(expires_at);
        }
    }
}

#[async_trait::async_trait]
impl Denylist for SqlDenylist {
    async fn revoke(&self, key: &str, expires_at: i64) -> Result<(), StoreError> {
        // In memory first: from this instant on the token is refused, even if the write
        // below fails (the caller then reports the failure).
        self.remember(key, expires_at);
        let mut conn = self.db.acquire().await?;
        denylist::insert(&mut conn, key, expires_at).await
    }

    async fn any_revoked(&self, keys: [&str; 3], now: i64) -> Result<bool, StoreError> {
        if let Some(mirror) = &self.mirror {
            let map = mirror.read().unwrap_or_else(PoisonError::into_inner);
            return Ok(keys
                .iter()
                .any(|k| map.get(*k).is_some_and(|&until| until > now)));
        }
        let mut conn = self.db.acquire().await?;
        denylist::any_live(&mut conn, keys, now).await
    }

    async fn purge_expired(&self, now: i64) -> Result<(), StoreError> {
        if let Some(mirror) = &self.mirror {
            mirror
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, until| *until > now);
        }
        let mut conn = self.db.acquire().await?;
        denylist::purge_expired(&mut conn, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite(dir: &tempfile::TempDir) -> Db {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("deny.db").display());
        Db::connect(&url, 2).await.unwrap()
    }

    #[tokio::test]
    async fn the_sqlite_mirror_answers_like_the_table_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let list = SqlDenylist::open(db.clone(), 1_000).await.unwrap();
        assert!(list.mirror.is_some(), "SQLite keeps the denylist in memory");
        list.revoke("jti:a", 5_000).await.unwrap();
        list.revoke("fam:b", 2_000).await.unwrap();
        // A shorter expiry never shortens an entry.
        list.revoke("jti:a", 3_000).await.unwrap();
        assert!(list.any_revoked(["x", "jti:a", "y"], 4_000).await.unwrap());
        assert!(list.any_revoked(["fam:b", "x", "x"], 1_999).await.unwrap());
        assert!(!list.any_revoked(["fam:b", "x", "x"], 2_000).await.unwrap());
        assert!(!list.any_revoked(["x", "y", "z"], 0).await.unwrap());
        drop(list);
        db.close().await;

        // A restarted server loads every live entry from the table.
        let db = sqlite(&dir).await;
        let list = SqlDenylist::open(db.clone(), 2_500).await.unwrap();
        assert!(list.any_revoked(["jti:a", "x", "x"], 4_999).await.unwrap());
        assert!(!list.any_revoked(["fam:b", "x", "x"], 2_500).await.unwrap());
        let mut conn = db.acquire().await.unwrap();
        assert!(
            denylist::any_live(&mut conn, ["jti:a", "x", "x"], 4_999)
                .await
                .unwrap()
        );
        drop(conn);

        list.purge_expired(6_000).await.unwrap();
        let mirror = list.mirror.as_ref().unwrap().read().unwrap();
        assert!(mirror.is_empty(), "purged entries leave memory too");
    }
}
