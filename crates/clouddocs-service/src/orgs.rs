//! Organizations and membership. Changing members needs `manage_users` on the org, which
//! the policy engine decides; a non-member learns nothing about an org (404).

use clouddocs_authz::scopes::scope_for_manage_users;
use clouddocs_authz::{Decision, OrgRole, PrincipalFacts};
use clouddocs_domain::{OrgId, Principal, UserId};
use clouddocs_store::sql::orgs::{self, MemberRow, MyOrgRow, OrgRow};
use clouddocs_store::sql::users;
use clouddocs_store::{Conn, StoreError};

use crate::audit::{Entry, record};
use crate::refusals::Refusal;
use crate::{ServiceError, Services, ValidationError, now_ms};

/// Loads the principal's facts for one org: only the membership a decision needs
pub(crate) async fn principal_facts(
    conn: &mut Conn,
    principal: &Principal,
    org_id: &str,
) -> Result<(PrincipalFacts, Option<OrgRole>), ServiceError> {
    let (mut facts, role) = user_facts(
        conn,
        &principal.user_id.to_string(),
        principal.platform_admin,
        org_id,
    )
    .await?;
    facts.mfa = principal.amr.is_mfa();
    Ok((facts, role))
}

/// Loads a user's facts for one org
pub(crate) async fn user_facts(
    conn: &mut Conn,
    user_id: &str,
    platform_admin: bool,
    org_id: &str,
) -> Result<(PrincipalFacts, Option<OrgRole>), ServiceError> {
    let role = orgs::role_of(conn, org_id, user_id)
        .await?
        .and_then(|r| r.parse::<OrgRole>().ok());
    let facts = PrincipalFacts {
        user_id: user_id.to_owned(),
        platform_admin,
        memberships: role
            .map(|r| vec![(org_id.to_owned(), r)])
            .unwrap_or_default(),
        mfa: false,
    };
    Ok((facts, role))
}

fn parse_role(raw: &str) -> Result<OrgRole, ServiceError> {
    raw.parse::<OrgRole>().map_err(|e| {
        ValidationError::Field {
            field: "role",
            reason: format!("{e}; expected `admin`, `editor` or `viewer`"),
        }
        .into()
    })
}

/// An org as one of its members sees it
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Org id
    pub id: OrgId,
    /// Name
    pub name: String,
    /// The caller's role in it
    pub role: OrgRole,
    /// Creation time, unix milliseconds
    pub created_at: i64,
}

/// A member of an org
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user
    pub user_id: UserId,
    /// Their email
    pub email: String,
    /// Their display name
    pub display_name: String,
    /// Their role
    pub role: OrgRole,
    /// Member since, unix milliseconds
    pub created_at: i64,
}

fn stored_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ServiceError> {
    raw.parse().map_err(|_| {
        ServiceError::Store(StoreError::Corrupt(format!(
            "stored {what} is not a valid id"
        )))
    })
}

fn stored_role(raw: &str) -> Result<OrgRole, ServiceError> {
    raw.parse()
        .map_err(|_| ServiceError::Store(StoreError::Corrupt(format!("stored role `{raw}`"))))
}

impl TryFrom<MyOrgRow> for Org {
    type Error = ServiceError;
    fn try_from(row: MyOrgRow) -> Result<Self, ServiceError> {
        Ok(Self {
            id: stored_id(&row.id, "org id")?,
            role: stored_role(&row.role)?,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<MemberRow> for Member {
    type Error = ServiceError;
    fn try_from(row: MemberRow) -> Result<Self, ServiceError> {
        Ok(Self {
            user_id: stored_id(&row.user_id, "user id")?,
            role: stored_role(&row.role)?,
            email: row.email,
            display_name: row.display_name,
            created_at: row.created_at,
        })
    }
}

impl Services {
    /// Creates an org; the creator becomes its admin
    pub async fn create_org(&self, principal: &Principal, name: &str) -> Result<Org, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ValidationError::Field {
                field: "name",
                reason: "must be 1 to 100 printable characters".to_owned(),
            }
            .into());
        }
        let now = now_ms();
        let org_id = OrgId::new();
        let org = OrgRow {
            id: org_id.to_string(),
            name: name.to_owned(),
            created_by: principal.user_id.to_string(),
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        orgs::insert(&mut tx, &org).await?;
        orgs::upsert_member(
            &mut tx,
            &org.id,
            &org.created_by,
            OrgRole::Admin.as_str(),
            now,
        )
        .await?;
        record(
            &mut tx,
            Entry::success("org.create")
                .by(principal)
                .target(format!("org:{}", org.id))
                .org(&org.id),
        )
        .await?;
        tx.commit().await?;
        Ok(Org {
            id: org_id,
            name: org.name,
            role: OrgRole::Admin,
            created_at: now,
        })
    }

    /// The caller's orgs
    pub async fn list_my_orgs(&self, principal: &Principal) -> Result<Vec<Org>, ServiceError> {
        let mut conn = self.db.acquire().await?;
        orgs::list_for_user(&mut conn, &principal.user_id.to_string())
            .await?
            .into_iter()
            .map(Org::try_from)
            .collect()
    }

    /// An org's members; any member may list them
    pub async fn list_members(
        &self,
        principal: &Principal,
        org_id: &OrgId,
    ) -> Result<Vec<Member>, ServiceError> {
        let org_id = org_id.to_string();
        let org_id = org_id.as_str();
        let mut conn = self.db.acquire().await?;
        let (_, role) = principal_facts(&mut conn, principal, org_id).await?;
        if role.is_none() {
            return Err(ServiceError::NotFound);
        }
        orgs::list_members(&mut conn, org_id)
            .await?
            .into_iter()
            .map(Member::try_from)
            .collect()
    }

    /// Whether the caller may change the org's members: `Ok(None)` when allowed,
    /// `Ok(Some(denial))` when the policies or the scope deny it (to audit once the
    /// transaction is dropped), `NotFound` when the org is hidden from the caller
    async fn manage_users_denial(
        &self,
        conn: &mut Conn,
        principal: &Principal,
        org_id: &str,
    ) -> Result<Option<(Decision, ServiceError)>, ServiceError> {
        let (facts, role) = principal_facts(conn, principal, org_id).await?;
        if role.is_none() {
            return Err(ServiceError::NotFound);
        }
        let needed = scope_for_manage_users();
        let decision = Self::narrowed(
            principal,
            self.policy.decide_manage_users(&facts, org_id),
            needed,
        );
        if decision.allowed {
            return Ok(None);
        }
        let answer = if principal.has_scope(needed) {
            ServiceError::Forbidden("managing members needs the org admin role")
        } else {
            ServiceError::InsufficientScope(needed)
        };
        Ok(Some((decision, answer)))
    }

    /// Audits a refused membership change and returns the answer
    async fn refuse_manage(
        &self,
        principal: &Principal,
        org_id: &str,
        (decision, answer): (Decision, ServiceError),
    ) -> ServiceError {
        let refusal = Refusal {
            action: "manage_users",
            target: Some(format!("org:{org_id}")),
            org: Some(org_id),
            decision: &decision,
        };
        self.refuse(principal, refusal, answer).await
    }

    /// Adds a member or changes their role
    pub async fn put_member(
        &self,
        principal: &Principal,
        org_id: &OrgId,
        user_id: &UserId,
        role: &str,
    ) -> Result<Member, ServiceError> {
        let org_id = org_id.to_string();
        let org_id = org_id.as_str();
        let user_id = user_id.to_string();
        let user_id = user_id.as_str();
        let role = parse_role(role)?;
        let mut tx = self.db.begin().await?;
        if let Some(denial) = self.manage_users_denial(&mut tx, principal, org_id).await? {
            drop(tx);
            return Err(self.refuse_manage(principal, org_id, denial).await);
        }
        let user = users::find(&mut tx, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let current = orgs::role_of(&mut tx, org_id, user_id).await?;
        if current.as_deref() == Some("admin")
            && role != OrgRole::Admin
            && orgs::count_admins(&mut tx, org_id).await? <= 1
        {
            return Err(ServiceError::Conflict("an org needs at least one admin"));
        }
        let now = now_ms();
        orgs::upsert_member(&mut tx, org_id, user_id, role.as_str(), now).await?;
        record(
            &mut tx,
            Entry::success("org.member_put")
                .by(principal)
                .target(format!("user:{user_id}"))
                .org(org_id)
                .detail(serde_json::json!({"role": role.as_str(), "previous": current})),
        )
        .await?;
        tx.commit().await?;
        Ok(Member {
            user_id: stored_id(&user.id, "user id")?,
            email: user.email,
            display_name: user.display_name,
            role,
            created_at: now,
        })
    }

    /// Removes a member
    pub async fn remove_member(
        &self,
        principal: &Principal,
        org_id: &OrgId,
        user_id: &UserId,
    ) -> Result<(), ServiceError> {
        let org_id = org_id.to_string();
        let org_id = org_id.as_str();
        let user_id = user_id.to_string();
        let user_id = user_id.as_str();
        let mut tx = self.db.begin().await?;
        if let Some(denial) = self.manage_users_denial(&mut tx, principal, org_id).await? {
            drop(tx);
            return Err(self.refuse_manage(principal, org_id, denial).await);
        }
        let current = orgs::role_of(&mut tx, org_id, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if current == "admin" && orgs::count_admins(&mut tx, org_id).await? <= 1 {
            return Err(ServiceError::Conflict("an org needs at least one admin"));
        }
        orgs::delete_member(&mut tx, org_id, user_id).await?;
        record(
            &mut tx,
            Entry::success("org.member_remove")
                .by(principal)
                .target(format!("user:{user_id}"))
                .org(org_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
