//! The denylist in the SQL database (single node, or nodes sharing PostgreSQL).

use crate::ephemeral::Denylist;
use crate::{Db, StoreError, sql::denylist};

/// Denylist rows in `revoked_tokens`
#[derive(Debug, Clone)]
pub struct SqlDenylist {
    db: Db,
}

impl SqlDenylist {
    /// Over an open database
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl Denylist for SqlDenylist {
    async fn revoke(&self, key: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut conn = self.db.acquire().await?;
        denylist::insert(&mut conn, key, expires_at).await
    }

    async fn any_revoked(&self, keys: [&str; 3], now: i64) -> Result<bool, StoreError> {
        let mut conn = self.db.acquire().await?;
        denylist::any_live(&mut conn, keys, now).await
    }
}
