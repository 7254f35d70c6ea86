//! Authorization as a service (`/authz/check`) and the policy administration use cases.

use clouddocs_authz::{AuthzError, CustomCheck, Decision, DocAction, EntityRef, PrincipalFacts};
use clouddocs_domain::{Principal, UserId};
use clouddocs_store::sql::policies::{self, PolicySetRow};
use clouddocs_store::sql::{documents, users};

use crate::audit::{Entry, record};
use crate::documents::document_facts;
use crate::orgs::user_facts;
use crate::{ServiceError, Services, now_ms};

/// The longest a custom check may evaluate before the caller is answered 422
pub const MAX_EVALUATION: std::time::Duration = std::time::Duration::from_secs(1);

/// A question for the decision point
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// Whom the question is about; the caller when absent
    pub principal: Option<EntityRef>,
    /// The action: a CloudDocs action name, or a namespaced entity
    pub action: EntityRef,
    /// The resource
    pub resource: EntityRef,
    /// Context for custom checks
    pub context: serde_json::Value,
    /// Entities for custom checks
    pub entities: serde_json::Value,
}

/// Why a policy replacement was refused
#[derive(Debug, thiserror::Error)]
pub enum PolicyUpdateError {
    /// Cedar refused the text; line and column point at the first error
    #[error(transparent)]
    Invalid(#[from] AuthzError),
    /// Any other failure
    #[error(transparent)]
    Service(#[from] ServiceError),
}

fn strip_ns<'a>(entity_type: &'a str, bare: &str) -> Option<&'a str> {
    (entity_type == bare || entity_type == format!("CloudDocs::{bare}")).then_some(entity_type)
}

fn doc_action(action: &EntityRef) -> Option<DocAction> {
    let builtin = action.entity_type.is_empty()
        || action.entity_type == "Action"
        || action.entity_type == "CloudDocs::Action";
    if !builtin {
        return None;
    }
    DocAction::ALL.into_iter().find(|a| a.as_str() == action.id)
}

/// The context of a custom check with `mfa` filled in: whether the caller's own sign-in
/// was multi-factor, unless the caller states it (a resource server asking about its own
/// user states that user's `mfa`, from the user's token's `amr`, as it states every other
/// fact about that user)
fn with_mfa(context: serde_json::Value, caller: &Principal) -> serde_json::Value {
    let mut context = match context {
        serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
        other => other,
    };
    if let Some(object) = context.as_object_mut() {
        object
            .entry("mfa")
            .or_insert_with(|| caller.amr.is_mfa().into());
    }
    context
}

impl Services {
    /// Answers a decision question. About CloudDocs documents and orgs the server loads the
    /// facts itself, and a caller may ask only about itself unless it is a platform admin;
    /// questions in other namespaces are evaluated on the entities the caller supplies.
    pub async fn check(
        &self,
        caller: &Principal,
        request: CheckRequest,
    ) -> Result<Decision, ServiceError> {
        let about_document = strip_ns(&request.resource.entity_type, "Document").is_some();
        let about_org = strip_ns(&request.resource.entity_type, "Org").is_some();
        if !about_document && !about_org {
            let principal = request.principal.ok_or(ServiceError::Validation(
                crate::ValidationError::Field {
                    field: "principal",
                    reason: "required for custom entity types".to_owned(),
                },
            ))?;
            let custom = CustomCheck {
                principal,
                action: request.action,
                resource: request.resource,
                context: with_mfa(request.context, caller),
                entities: request.entities,
            };
            return self.check_custom_bounded(custom).await;
        }
        // (user id, platform admin) of the subject of the question
        let subject: (String, bool) = match &request.principal {
            None => (caller.user_id.to_string(), caller.platform_admin),
            Some(p) if strip_ns(&p.entity_type, "User").is_some() => {
                let id: UserId = p.id.parse().map_err(|_| ServiceError::NotFound)?;
                if id == caller.user_id {
                    (caller.user_id.to_string(), caller.platform_admin)
                } else if caller.is_platform_admin() {
                    let mut conn = self.db.acquire().await?;
                    let user = users::find(&mut conn, &p.id)
                        .await?
                        .ok_or(ServiceError::NotFound)?;
                    (user.id.clone(), user.platform_admin())
                } else {
                    let why = "only platform admins may ask about another principal";
                    let decision = Decision::deny(why);
                    let refusal = crate::refusals::Refusal {
                        action: "authz.check",
                        target: Some(format!("user:{}", p.id)),
                        org: None,
                        decision: &decision,
                    };
                    return Err(self
                        .refuse(caller, refusal, ServiceError::Forbidden(why))
                        .await);
                }
            }
            Some(_) => {
                return Err(ServiceError::Validation(crate::ValidationError::Field {
                    field: "principal",
                    reason: "must be a `CloudDocs::User`".to_owned(),
                }));
            }
        };
        // `context.mfa` is known of the caller's own sign-in only.
        let subject_mfa = subject.0 == caller.user_id.to_string() && caller.amr.is_mfa();
        let mut conn = self.db.acquire().await?;
        if about_org {
            if request.action.id != "manage_users" {
                return Err(ServiceError::Validation(crate::ValidationError::Field {
                    field: "action",
                    reason: "an org supports `manage_users`".to_owned(),
                }));
            }
            let (mut facts, _) =
                user_facts(&mut conn, &subject.0, subject.1, &request.resource.id).await?;
            facts.mfa = subject_mfa;
            return Ok(self
                .policy
                .decide_manage_users(&facts, &request.resource.id));
        }
        let action = doc_action(&request.action).ok_or(ServiceError::Validation(
            crate::ValidationError::Field {
                field: "action",
                reason: "a document supports `read`, `update`, `delete` and `share`".to_owned(),
            },
        ))?;
        let Some(doc) = documents::find(&mut conn, &request.resource.id).await? else {
            // The same answer as for a document the subject may not see: no existence leak.
            return Ok(self.policy.decide_document(
                &PrincipalFacts {
                    user_id: subject.0,
                    platform_admin: subject.1,
                    memberships: Vec::new(),
                    mfa: subject_mfa,
                },
                action,
                &clouddocs_authz::DocumentFacts {
                    id: request.resource.id.clone(),
                    org_id: String::new(),
                    author_id: String::new(),
                    published: false,
                    viewers: Vec::new(),
                    editors: Vec::new(),
                },
            ));
        };
        let (mut facts, _) = user_facts(&mut conn, &subject.0, subject.1, &doc.org_id).await?;
        facts.mfa = subject_mfa;
        let doc_facts = document_facts(&mut conn, &doc).await?;
        Ok(self.policy.decide_document(&facts, action, &doc_facts))
    }

    /// Evaluates a custom check off the executor, bounded in time: the entity bounds keep
    /// Cedar's work small, and the deadline answers the caller even when it is not
    async fn check_custom_bounded(&self, custom: CustomCheck) -> Result<Decision, ServiceError> {
        let policy = std::sync::Arc::clone(&self.policy);
        let task = tokio::task::spawn_blocking(move || policy.check_custom(&custom));
        let refused = |field: &'static str, reason: String| {
            ServiceError::Validation(crate::ValidationError::Field { field, reason })
        };
        match tokio::time::timeout(MAX_EVALUATION, task).await {
            Err(_) => Err(refused(
                "request",
                format!(
                    "evaluation time exceeds the bound of {} ms",
                    MAX_EVALUATION.as_millis()
                ),
            )),
            Ok(Err(join)) => Err(ServiceError::Unexpected(anyhow::Error::new(join))),
            Ok(Ok(Err(err))) => Err(refused("request", err.to_string())),
            Ok(Ok(Ok(decision))) => Ok(decision),
        }
    }

    /// The active policy set and schema extension. **Permissions**: platform admins.
    pub async fn policies(&self, caller: &Principal) -> Result<(String, String), ServiceError> {
        self.platform_admin(caller, "policy.read").await?;
        Ok((self.policy.policies_text(), self.policy.schema_extension()))
    }

    /// Validates and activates a new policy set, persisted for every node and restarts.
    /// **Permissions**: platform admins.
    pub async fn replace_policies(
        &self,
        caller: &Principal,
        policies_src: &str,
        schema_extension: &str,
    ) -> Result<(), PolicyUpdateError> {
        self.platform_admin(caller, "policy.update").await?;
        // Validate first on a scratch engine so a failure never touches the active set.
        let scratch = clouddocs_authz::PolicyEngine::default_set()?;
        if let Err(err) = scratch.replace_with_schema(schema_extension, policies_src) {
            self.audit(
                Entry::failure("policy.update")
                    .by(caller)
                    .target("policies")
                    .detail(serde_json::json!({"error": err.to_string()})),
            )
            .await?;
            return Err(err.into());
        }
        let row = PolicySetRow {
            id: uuid::Uuid::now_v7().to_string(),
            policies: policies_src.to_owned(),
            schema_extension: schema_extension.to_owned(),
        };
        let mut tx = self.db.begin().await.map_err(ServiceError::from)?;
        record(
            &mut tx,
            Entry::success("policy.update")
                .by(caller)
                .target(format!("policy_set:{}", row.id))
                .detail(serde_json::json!({"policy_ids": policy_ids(policies_src), "bytes": policies_src.len()})),
        )
        .await?;
        policies::insert(&mut tx, &row, Some(&caller.user_id.to_string()), now_ms())
            .await
            .map_err(ServiceError::from)?;
        tx.commit().await.map_err(ServiceError::from)?;
        self.policy
            .replace_with_schema(schema_extension, policies_src)?;
        tracing::info!(policy_set = %row.id, "policy set replaced");
        Ok(())
    }

    /// Picks up a policy set activated by another node
    pub(crate) async fn reload_policies(&self) -> Result<(), ServiceError> {
        let mut conn = self.db.acquire().await?;
        if let Some(row) = policies::latest(&mut conn).await?
            && (row.policies != self.policy.policies_text()
                || row.schema_extension != self.policy.schema_extension())
            && let Err(err) = self
                .policy
                .replace_with_schema(&row.schema_extension, &row.policies)
        {
            tracing::error!(policy_set = %row.id, error = %err, "stored policy set is invalid; keeping the active one");
        }
        Ok(())
    }
}

/// The `@id("…")` annotations of a policy text, for the audit record
fn policy_ids(src: &str) -> Vec<String> {
    src.split("@id(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id.to_owned()))
        .collect()
}
