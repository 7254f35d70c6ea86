//! Sharing a document with a user, named by id or by email, as `viewer` or `editor`;
//! every change decided by the policy engine (`share`) and audited.

use clouddocs_authz::DocAction;
use clouddocs_domain::{DocumentId, Principal, ShareRole};
use clouddocs_store::Conn;
use clouddocs_store::sql::documents::DocumentRow;
use clouddocs_store::sql::{documents, orgs, users};

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, ValidationError, now_ms};

/// The id of the user named by `user` for a share of `doc`: a user id, or an email address
/// (anything with an `@`, normalized as at registration); `None` when there is no such
/// user.
///
/// An email names only a member of the document's org, or a user the document is already
/// shared with: people the sharer can already see. Resolving any email would tell every
/// user (anyone may create an org and a document) which addresses have accounts, which
/// registration is careful never to reveal. Outside the org, share by user id.
async fn resolve_user(
    conn: &mut Conn,
    user: &str,
    doc: &DocumentRow,
) -> Result<Option<String>, ServiceError> {
    if !user.contains('@') {
        return Ok(users::find(conn, user).await?.map(|u| u.id));
    }
    let Ok(email) = clouddocs_domain::Email::parse(user) else {
        return Ok(None);
    };
    let Some(found) = users::find_by_email(conn, email.as_str()).await? else {
        return Ok(None);
    };
    let member = orgs::role_of(conn, &doc.org_id, &found.id).await?.is_some();
    let shared = documents::shares(conn, &doc.id)
        .await?
        .iter()
        .any(|s| s.user_id == found.id);
    Ok((member || shared).then_some(found.id))
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
        let Some(user_id) = resolve_user(&mut tx, user, &doc).await? else {
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
        let Some(user_id) = resolve_user(&mut tx, user, &doc).await? else {
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
