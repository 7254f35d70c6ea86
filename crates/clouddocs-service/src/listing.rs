//! `GET /documents`: the documents a caller may read, newest first, SQL narrowing to the
//! candidates and the policy engine deciding each one.

use clouddocs_authz::{DocAction, DocumentFacts, OrgRole, PrincipalFacts};
use clouddocs_domain::{Principal, Scope};
use clouddocs_store::sql::documents::{self, ListFilter, OrgReach, ReadableRow};
use clouddocs_store::sql::orgs;

use crate::documents::{Document, DocumentQuery};
use crate::{ServiceError, Services};

impl Services {
    /// The documents the caller may read, newest first: SQL narrows to the candidates of the
    /// default `read` rule, and the policy engine has the final word on each one
    pub async fn list_documents(
        &self,
        principal: &Principal,
        query: DocumentQuery,
        limit: u32,
    ) -> Result<(Vec<Document>, Option<String>), ServiceError> {
        if !principal.has_scope(Scope::DocumentsRead) {
            return Ok((Vec::new(), None));
        }
        let limit = usize::try_from(limit).unwrap_or(20);
        let mut filter = ListFilter {
            org_id: query.org,
            q: query.q.filter(|q| !q.is_empty()),
            published: query.published,
            before: query.cursor,
        };
        let mut conn = self.db.acquire().await?;
        let user_id = principal.user_id.to_string();
        // The principal's facts are loaded once for the whole page: every membership, and
        // the caller's own share of each candidate row (the only shares a decision about
        // this caller can depend on), read with the rows.
        let memberships: Vec<(String, OrgRole)> = orgs::list_for_user(&mut conn, &user_id)
            .await?
            .into_iter()
            .filter_map(|m| m.role.parse::<OrgRole>().ok().map(|r| (m.id, r)))
            .collect();
        let reach: Vec<OrgReach> = memberships
            .iter()
            .map(|(org_id, role)| OrgReach {
                org_id: org_id.clone(),
                unpublished: matches!(role, OrgRole::Admin | OrgRole::Editor),
            })
            .collect();
        let facts = PrincipalFacts {
            user_id: user_id.clone(),
            platform_admin: principal.platform_admin,
            memberships,
            mfa: principal.amr.is_mfa(),
        };
        // One snapshot of the policy set and one setup per org for the whole page; the
        // engine still decides every row.
        let mut decider = self.policy.document_decider(&facts, DocAction::Read);
        let mut items = Vec::with_capacity(limit);
        loop {
            let want = i64::try_from(limit.saturating_sub(items.len()) + 1).unwrap_or(101);
            let rows = documents::list_readable(&mut conn, &user_id, &reach, &filter, want).await?;
            let exhausted = i64::try_from(rows.len()).unwrap_or(0) < want;
            let fetched = rows.len();
            for ReadableRow {
                document: row,
                my_share,
            } in rows
            {
                if items.len() == limit {
                    return Ok((items, filter.before));
                }
                let (viewers, editors) = match my_share.as_deref() {
                    Some("editor") => (Vec::new(), vec![user_id.clone()]),
                    Some(_) => (vec![user_id.clone()], Vec::new()),
                    None => (Vec::new(), Vec::new()),
                };
                let doc_facts = DocumentFacts {
                    id: row.id.clone(),
                    org_id: row.org_id.clone(),
                    author_id: row.author_id.clone(),
                    published: row.published(),
                    viewers,
                    editors,
                };
                let allowed = decider.decide(&doc_facts).allowed;
                filter.before = Some(doc_facts.id);
                if allowed {
                    items.push(Document::from(row));
                }
            }
            if exhausted || fetched == 0 {
                return Ok((items, None));
            }
        }
    }
}
