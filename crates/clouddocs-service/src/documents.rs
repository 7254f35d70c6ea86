//! Documents and sharing, every decision made by the policy engine and narrowed by the
//! credential's scopes. A document the caller may not read is "not found", exactly like
//! a missing id; a readable document the caller may not change is "forbidden".

use clouddocs_authz::scopes::scope_for;
use clouddocs_authz::{Decision, DocAction, DocumentFacts, OrgRole};
use clouddocs_domain::{DocumentId, OrgId, Principal};
use clouddocs_store::Conn;
use clouddocs_store::sql::documents::{self, DocumentRow};
use serde::Serialize;

use crate::audit::{Entry, record};
use crate::orgs::principal_facts;
use crate::refusals::Refusal;
use crate::{ServiceError, Services, ValidationError, now_ms};

/// A document as the API shows it
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// Document id
    pub id: String,
    /// Owning org
    pub org_id: String,
    /// Author
    pub author_id: String,
    /// Title
    pub title: String,
    /// Body
    pub body: String,
    /// Readable by every org member
    pub published: bool,
    /// Creation time, unix milliseconds
    pub created_at: i64,
    /// Last change, unix milliseconds
    pub updated_at: i64,
}

impl From<DocumentRow> for Document {
    fn from(d: DocumentRow) -> Self {
        let published = d.published();
        Self {
            id: d.id,
            org_id: d.org_id,
            author_id: d.author_id,
            title: d.title,
            body: d.body,
            published,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

impl From<&DocumentRow> for Document {
    fn from(d: &DocumentRow) -> Self {
        Self::from(d.clone())
    }
}

/// Changes to a document; absent fields stay as they are
#[derive(Debug, Default)]
pub struct DocumentPatch {
    /// New title
    pub title: Option<String>,
    /// New body
    pub body: Option<String>,
    /// New published flag
    pub published: Option<bool>,
}

/// Filters of `GET /documents`
#[derive(Debug, Default)]
pub struct DocumentQuery {
    /// Only this org
    pub org: Option<String>,
    /// Title contains (case-insensitive)
    pub q: Option<String>,
    /// Only published / unpublished
    pub published: Option<bool>,
    /// Cursor: the last id of the previous page
    pub cursor: Option<String>,
}

const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 512 * 1024;

fn validate_title(title: &str) -> Result<String, ServiceError> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE || t.chars().any(char::is_control) {
        return Err(ValidationError::Field {
            field: "title",
            reason: format!("must be 1 to {MAX_TITLE} printable characters"),
        }
        .into());
    }
    Ok(t.to_owned())
}

fn validate_body(body: &str) -> Result<String, ServiceError> {
    if body.len() > MAX_BODY {
        return Err(ValidationError::Field {
            field: "body",
            reason: format!("must be at most {MAX_BODY} bytes"),
        }
        .into());
    }
    Ok(body.to_owned())
}

pub(crate) async fn document_facts(
    conn: &mut Conn,
    doc: &DocumentRow,
) -> Result<DocumentFacts, ServiceError> {
    let shares = documents::shares(conn, &doc.id).await?;
    let (editors, viewers): (Vec<_>, Vec<_>) = shares.into_iter().partition(|s| s.role == "editor");
    Ok(DocumentFacts {
        id: doc.id.clone(),
        org_id: doc.org_id.clone(),
        author_id: doc.author_id.clone(),
        published: doc.published(),
        viewers: viewers.into_iter().map(|s| s.user_id).collect(),
        editors: editors.into_iter().map(|s| s.user_id).collect(),
    })
}

impl Services {
    /// The policy decision for one action on one loaded document (policy AND scope)
    pub(crate) async fn decide_document(
        &self,
        conn: &mut Conn,
        principal: &Principal,
        action: DocAction,
        doc: &DocumentRow,
    ) -> Result<Decision, ServiceError> {
        let (facts, _) = principal_facts(conn, principal, &doc.org_id).await?;
        let doc_facts = document_facts(conn, doc).await?;
        let decision = self.policy.decide_document(&facts, action, &doc_facts);
        Ok(Self::narrowed(principal, decision, scope_for(action)))
    }

    /// Opens the transaction of a change to document `id`: the caller must be able to read
    /// it (else `NotFound`) and be allowed `action` (else the denial is audited, `Denied`)
    pub(crate) async fn authorized(
        &self,
        principal: &Principal,
        id: &str,
        action: DocAction,
        label: &'static str,
    ) -> Result<(clouddocs_store::Tx, DocumentRow), ServiceError> {
        let mut tx = self.db.begin().await?;
        let doc = self.readable(&mut tx, principal, id).await?;
        let decision = self
            .decide_document(&mut tx, principal, action, &doc)
            .await?;
        if !decision.allowed {
            drop(tx);
            let refusal = Refusal {
                action: label,
                target: Some(format!("document:{}", doc.id)),
                org: Some(&doc.org_id),
                decision: &decision,
            };
            return Err(self
                .refuse(principal, refusal, ServiceError::Denied(decision.clone()))
                .await);
        }
        Ok((tx, doc))
    }

    /// Loads a document the caller may read, or `NotFound` (identical for missing and hidden)
    async fn readable(
        &self,
        conn: &mut Conn,
        principal: &Principal,
        id: &str,
    ) -> Result<DocumentRow, ServiceError> {
        let doc = documents::find(conn, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if self
            .decide_document(conn, principal, DocAction::Read, &doc)
            .await?
            .allowed
        {
            Ok(doc)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Creates a document in an org; needs the editor or admin role there
    pub async fn create_document(
        &self,
        principal: &Principal,
        org_id: &OrgId,
        title: &str,
        body: &str,
        published: bool,
    ) -> Result<Document, ServiceError> {
        let org_id = org_id.to_string();
        let org_id = org_id.as_str();
        let title = validate_title(title)?;
        let body = validate_body(body)?;
        let mut tx = self.db.begin().await?;
        let (_, role) = principal_facts(&mut tx, principal, org_id).await?;
        match role {
            None => return Err(ServiceError::NotFound),
            Some(OrgRole::Viewer) => {
                drop(tx);
                let why = "creating documents needs the editor or admin role";
                let decision = Decision::deny(why);
                let refusal = Refusal {
                    action: "create",
                    target: Some(format!("org:{org_id}")),
                    org: Some(org_id),
                    decision: &decision,
                };
                return Err(self
                    .refuse(principal, refusal, ServiceError::Forbidden(why))
                    .await);
            }
            Some(OrgRole::Admin | OrgRole::Editor) => {}
        }
        let row = DocumentRow::new(
            uuid::Uuid::now_v7().to_string(),
            org_id.to_owned(),
            principal.user_id.to_string(),
            title,
            body,
            published,
            now_ms(),
        );
        documents::insert(&mut tx, &row).await?;
        record(
            &mut tx,
            Entry::success("document.create")
                .by(principal)
                .target(format!("document:{}", row.id))
                .org(&row.org_id),
        )
        .await?;
        tx.commit().await?;
        Ok(Document::from(&row))
    }

    /// Reads a document
    pub async fn get_document(
        &self,
        principal: &Principal,
        id: &DocumentId,
    ) -> Result<Document, ServiceError> {
        let id = id.to_string();
        let id = id.as_str();
        let mut conn = self.db.acquire().await?;
        Ok(Document::from(
            &self.readable(&mut conn, principal, id).await?,
        ))
    }

    /// Edits a document
    pub async fn update_document(
        &self,
        principal: &Principal,
        id: &DocumentId,
        patch: DocumentPatch,
    ) -> Result<Document, ServiceError> {
        let id = id.to_string();
        let id = id.as_str();
        let title = patch.title.as_deref().map(validate_title).transpose()?;
        let body = patch.body.as_deref().map(validate_body).transpose()?;
        let (mut tx, mut doc) = self
            .authorized(principal, id, DocAction::Update, "document.update")
            .await?;
        if let Some(t) = title {
            doc.title = t;
        }
        if let Some(b) = body {
            doc.body = b;
        }
        if let Some(p) = patch.published {
            doc.set_published(p);
        }
        let now = now_ms();
        documents::update(&mut tx, &doc, now).await?;
        record(
            &mut tx,
            Entry::success("document.update")
                .by(principal)
                .target(format!("document:{}", doc.id))
                .org(&doc.org_id),
        )
        .await?;
        tx.commit().await?;
        doc.updated_at = now;
        Ok(Document::from(&doc))
    }

    /// Deletes a document
    pub async fn delete_document(
        &self,
        principal: &Principal,
        id: &DocumentId,
    ) -> Result<(), ServiceError> {
        let id = id.to_string();
        let id = id.as_str();
        let (mut tx, doc) = self
            .authorized(principal, id, DocAction::Delete, "document.delete")
            .await?;
        documents::delete(&mut tx, &doc.id).await?;
        record(
            &mut tx,
            Entry::success("document.delete")
                .by(principal)
                .target(format!("document:{}", doc.id))
                .org(&doc.org_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What the caller may do with a document they can read, decided by the same engine (and
/// scopes) as the actions themselves: the pages show only these buttons
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct DocumentActions {
    /// Edit title, body and publication
    pub update: bool,
    /// Delete it
    pub delete: bool,
    /// Share and unshare it
    pub share: bool,
}

/// Someone a document is shared with
#[derive(Debug, Clone, Serialize)]
pub struct Sharee {
    /// Their id
    pub user_id: String,
    /// Their email
    pub email: String,
    /// `viewer` or `editor`
    pub role: String,
}

impl Services {
    /// A readable document with what the caller may do with it and whom it is shared with
    /// (the sharees only when the caller may share); `NotFound` as `get_document`
    pub async fn document_page(
        &self,
        principal: &Principal,
        id: &DocumentId,
    ) -> Result<(Document, DocumentActions, Vec<Sharee>), ServiceError> {
        let id = id.to_string();
        let mut conn = self.db.acquire().await?;
        let doc = self.readable(&mut conn, principal, &id).await?;
        let mut actions = DocumentActions::default();
        for (action, allowed) in [
            (DocAction::Update, &mut actions.update),
            (DocAction::Delete, &mut actions.delete),
            (DocAction::Share, &mut actions.share),
        ] {
            *allowed = self
                .decide_document(&mut conn, principal, action, &doc)
                .await?
                .allowed;
        }
        let mut sharees = Vec::new();
        if actions.share {
            for share in documents::shares(&mut conn, &doc.id).await? {
                let email = clouddocs_store::sql::users::find(&mut conn, &share.user_id)
                    .await?
                    .map(|u| u.email)
                    .unwrap_or_default();
                sharees.push(Sharee {
                    user_id: share.user_id,
                    email,
                    role: share.role,
                });
            }
        }
        Ok((Document::from(doc), actions, sharees))
    }
}
