//! Platform administration of users.

use clouddocs_domain::Principal;
use clouddocs_store::sql::{api_keys, sessions, users};

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, User, now_ms};

impl Services {
    /// One page of users, for platform admins only; returns the items and the next cursor
    pub async fn list_users(
        &self,
        principal: &Principal,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<User>, Option<String>), ServiceError> {
        self.platform_admin(principal, "user.list").await?;
        let mut conn = self.db.acquire().await?;
        let rows = users::list(&mut conn, after, i64::from(limit) + 1).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = (rows.len() > limit)
            .then(|| rows.get(limit.saturating_sub(1)).map(|r| r.id.clone()))
            .flatten();
        Ok((rows.iter().take(limit).map(User::from).collect(), next))
    }

    /// Disables a user and ends every session they have, at once
    pub async fn disable_user(
        &self,
        principal: &Principal,
        user_id: &str,
    ) -> Result<User, ServiceError> {
        self.platform_admin(principal, "user.disable").await?;
        let mut tx = self.db.begin().await?;
        users::set_disabled(&mut tx, user_id, true, now_ms()).await?;
        sessions::delete_all_for_user(&mut tx, user_id, None).await?;
        api_keys::revoke_all_for_user(&mut tx, user_id, now_ms()).await?;
        clouddocs_store::sql::mfa::delete_challenges_for_user(&mut tx, user_id).await?;
        record(
            &mut tx,
            Entry::success("user.disable")
                .by(principal)
                .target(format!("user:{user_id}")),
        )
        .await?;
        let row = users::find(&mut tx, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        self.user_changed(user_id);
        self.revoke_user_tokens(user_id, "account disabled").await?;
        tracing::info!(target_user = %user_id, "user disabled");
        Ok(User::from(&row))
    }
}
