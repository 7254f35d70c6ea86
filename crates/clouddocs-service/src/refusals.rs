//! Every denial is recorded the same way: a `permission.denied` audit event naming what
//! was refused, on what, and the real reason: the policies that *determined* the denial
//! (never ones that would have permitted it) and the reasons, the missing scope first.

use clouddocs_authz::Decision;
use clouddocs_authz::scopes::{effective, missing_scope};
use clouddocs_domain::{Principal, Scope};

use crate::audit::Entry;
use crate::{ServiceError, Services};

/// Proof that the caller is a platform admin acting with the `admin` scope, handed out by
/// [`Services::platform_admin`] (the way lldap hands out typed capabilities): a use case
/// that takes one cannot be reached by anyone else
#[derive(Debug, Clone, Copy)]
pub struct PlatformAdmin<'a> {
    principal: &'a Principal,
}

impl PlatformAdmin<'_> {
    /// The admin
    pub fn principal(&self) -> &Principal {
        self.principal
    }
}

/// What was refused, for the audit event
#[derive(Debug)]
pub(crate) struct Refusal<'a> {
    /// The action, e.g. `update`, `manage_users`, `scope`
    pub action: &'a str,
    /// The object, e.g. `document:…`, `org:…`; `None` for a route-level scope check
    pub target: Option<String>,
    /// The org the object belongs to, if any
    pub org: Option<&'a str>,
    /// The decision that refused it
    pub decision: &'a Decision,
}

impl Services {
    /// Records `refusal` and returns `answer`, the error to give the caller (or the audit
    /// failure, if the denial cannot be recorded: an unrecorded denial is not answered as
    /// if it were)
    pub(crate) async fn refuse(
        &self,
        principal: &Principal,
        refusal: Refusal<'_>,
        answer: ServiceError,
    ) -> ServiceError {
        let mut entry =
            Entry::denied("permission.denied")
                .by(principal)
                .detail(serde_json::json!({
                    "action": refusal.action,
                    "policies": refusal.decision.policies,
                    "reasons": refusal.decision.reasons,
                }));
        if let Some(target) = refusal.target {
            entry = entry.target(target);
        }
        if let Some(org) = refusal.org {
            entry = entry.org(org);
        }
        match self.audit(entry).await {
            Ok(()) => answer,
            Err(err) => err,
        }
    }

    /// The platform-admin capability for `action`, or `Forbidden` with the denial audited:
    /// a non-admin is refused by role, an admin's credential without the `admin` scope by
    /// scope
    pub async fn platform_admin<'a>(
        &self,
        principal: &'a Principal,
        action: &str,
    ) -> Result<PlatformAdmin<'a>, ServiceError> {
        if principal.is_platform_admin() {
            return Ok(PlatformAdmin { principal });
        }
        let decision = if principal.platform_admin {
            missing_scope(Scope::Admin)
        } else {
            Decision::deny("platform admin only")
        };
        let refusal = Refusal {
            action,
            target: None,
            org: None,
            decision: &decision,
        };
        Err(self
            .refuse(
                principal,
                refusal,
                ServiceError::Forbidden("platform admin only"),
            )
            .await)
    }

    /// The route-level scope check: a credential without `needed` is refused with
    /// `InsufficientScope`, and the denial is audited like every other
    pub async fn require_scope(
        &self,
        principal: &Principal,
        needed: Scope,
    ) -> Result<(), ServiceError> {
        if principal.has_scope(needed) {
            return Ok(());
        }
        let decision = missing_scope(needed);
        let refusal = Refusal {
            action: "scope",
            target: None,
            org: None,
            decision: &decision,
        };
        Err(self
            .refuse(principal, refusal, ServiceError::InsufficientScope(needed))
            .await)
    }

    /// A policy decision narrowed by the principal's scopes ([`effective`], the one
    /// scope-narrowing function)
    pub(crate) fn narrowed(principal: &Principal, decision: Decision, needed: Scope) -> Decision {
        effective(decision, &principal.scopes, needed)
    }
}
