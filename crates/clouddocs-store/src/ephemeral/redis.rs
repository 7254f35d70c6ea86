//! The denylist in Redis: `SET key 1 PXAT expiry`, checked with one `EXISTS`.

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use crate::StoreError;
use crate::ephemeral::Denylist;

const PREFIX: &str = "clouddocs:deny:";

/// Denylist entries in Redis, shared by every node
#[derive(Clone)]
pub struct RedisDenylist {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisDenylist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisDenylist")
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Redis(err)
}

impl RedisDenylist {
    /// Connects (the manager reconnects on its own afterwards)
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = ConnectionManager::new(client).await.map_err(unavailable)?;
        Ok(Self { conn })
    }
}

#[async_trait::async_trait]
impl Denylist for RedisDenylist {
    fn is_redis(&self) -> bool {
        true
    }

    async fn revoke(&self, key: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let at = u64::try_from(expires_at).unwrap_or(0);
        redis::cmd("SET")
            .arg(format!("{PREFIX}{key}"))
            .arg(1)
            .arg("PXAT")
            .arg(at)
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn any_revoked(&self, keys: [&str; 3], _now: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let keys: Vec<String> = keys.iter().map(|k| format!("{PREFIX}{k}")).collect();
        let count: u64 = conn.exists(keys).await.map_err(unavailable)?;
        Ok(count > 0)
    }
}

const CEREMONY_PREFIX: &str = "clouddocs:ceremony:";

/// WebAuthn ceremony state in Redis: `SET … PXAT`, taken with `GETDEL` (atomic, so a state
/// is handed out once)
#[derive(Clone)]
pub struct RedisCeremonies {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisCeremonies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCeremonies")
    }
}

impl RedisDenylist {
    /// Ceremony state over the same connection
    pub fn ceremonies(&self) -> RedisCeremonies {
        RedisCeremonies {
            conn: self.conn.clone(),
        }
    }
}

#[async_trait::async_trait]
impl crate::ephemeral::Ceremonies for RedisCeremonies {
    async fn put(&self, id: &str, state: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(format!("{CEREMONY_PREFIX}{id}"))
            .arg(state)
            .arg("PXAT")
            .arg(u64::try_from(expires_at).unwrap_or(0))
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn take(&self, id: &str, _now: i64) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("GETDEL")
            .arg(format!("{CEREMONY_PREFIX}{id}"))
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(unavailable)
    }
}
