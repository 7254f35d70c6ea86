//! Sharing a document with a user, named by id or by email, as `viewer` or `editor`;
//! every change decided by the policy engine (`share`) and audited.

use clouddocs_authz::DocAction;
use clouddocs_domain::{DocumentId, Principal, ShareRole};
use clouddocs_store::Conn;
use clouddocs_store::sql::{documents, users};

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, ValidationError, now_ms};

/// The id of the user named by `user`: a user id, or an email address (anything with an
/// `@`, normalized as at registration); `None` when there is no such user
async fn resolve_user(conn: &mut Conn, user: &str) -> Result<Option<String>, ServiceError> {
    if user.contains('@') {
        let Ok(email) = clouddocs_domain::Email::parse(user) else {
            return Ok(None);
        };
        return Ok(users::find_by_email(conn, email.as_str())
            .await?
            .map(|u| u.id));
    }
    Ok(users::find(conn, user).await?.map(|u| u.id))
}

impl Services {
    /// Shares a document with a user (inside or outside the org) as `viewer` or `editor`
    pub async fn share_document(
        &self,
        principal: &Principal,
        id: &DocumentId,
        user: &str,
        role: &str,
    ) -> Result<(), ServiceError> {
        let id = id.to_string();
        let id = id.as_str();
        let role: ShareRole = role.parse().map_err(|_| ValidationError::Field {
            field: "role",
            reason: "expected `viewer` or `editor`".to_owned(),
        })?;
        let (mut tx, doc) = self
            .authorized(principal, id, DocAction::Share, "document.share")
            .await?;
        let Some(user_id) = resolve_user(&mut tx, user).await? else {
            return Err(ServiceError::NotFound);
        };
        let user_id = user_id.as_str();
        documents::upsert_share(&mut tx, &doc.id, user_id, role.as_str(), now_ms()).await?;
        record(
            &mut tx,
            Entry::success("document.share")
                .by(principal)
                .target(format!("document:{}", doc.id))
                .org(&doc.org_id)
                .detail(serde_json::json!({"user": user_id, "role": role})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws a share
    pub async fn unshare_document(
        &self,
        principal: &Principal,
        id: &DocumentId,
        user: &str,
    ) -> Result<(), ServiceError> {
        let id = id.to_string();
        let id = id.as_str();
        let (mut tx, doc) = self
            .authorized(principal, id, DocAction::Share, "document.unshare")
            .await?;
        let Some(user_id) = resolve_user(&mut tx, user).await? else {
            return Err(ServiceError::NotFound);
        };
        let user_id = user_id.as_str();
        if !documents::delete_share(&mut tx, &doc.id, user_id).await? {
            return Err(ServiceError::NotFound);
        }
        record(
            &mut tx,
            Entry::success("document.unshare")
                .by(principal)
                .target(format!("document:{}", doc.id))
                .org(&doc.org_id)
                .detail(serde_json::json!({"user": user_id})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
