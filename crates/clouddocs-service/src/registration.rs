//! Creating accounts: self-registration that reveals nothing about which emails have an
//! account, the admin CLI's `users create`, and the confusable-skeleton backfill.

use clouddocs_domain::{Email, UserId};
use clouddocs_store::sql::users;
use clouddocs_store::{StoreError, sql::users::UserRow};

use crate::accounts::{NewAccount, User, check_password_strength};
use crate::audit::{Entry, record};
use crate::{ServiceError, Services, now_ms};

impl Services {
    /// Self-registration (`POST /auth/register`). Registering an email that already has
    /// an account, or a confusable lookalike of one (UTS #39 skeleton), creates nothing but
    /// answers exactly as a new registration does (a fresh id, the same fields, the same
    /// password hashing time), so registration reveals nothing about which accounts
    /// exist; the "you already have an account" notice goes to the audit log only
    /// (`user.register`, outcome `failure`, naming the existing account)
    pub async fn register(&self, account: NewAccount) -> Result<User, ServiceError> {
        self.create_account(account, false, None).await
    }

    /// Creates an account from the admin CLI (`users create`): audited as `user.create`
    /// with actor `cli`
    pub async fn create_user_by_cli(
        &self,
        account: NewAccount,
        platform_admin: bool,
    ) -> Result<User, ServiceError> {
        self.create_account(account, platform_admin, Some("cli"))
            .await
    }

    /// `actor`: who created the account, or `None` when it registered itself
    async fn create_account(
        &self,
        account: NewAccount,
        platform_admin: bool,
        actor: Option<&str>,
    ) -> Result<User, ServiceError> {
        check_password_strength(
            &account.password,
            account.email.as_str(),
            account.display_name.as_str(),
        )?;
        let hash = self.hasher.hash(account.password).await?;
        let skeleton = account.email.skeleton();
        let row = UserRow::new(
            UserId::new().to_string(),
            account.email.as_str().to_owned(),
            account.display_name.as_str().to_owned(),
            hash,
            platform_admin,
            now_ms(),
        );
        let mut tx = self.db.begin().await?;
        let existing =
            users::find_by_email_or_skeleton(&mut tx, account.email.as_str(), &skeleton).await?;
        let taken = match existing {
            Some(existing) => Some(existing),
            None => match users::insert(&mut tx, &row, &skeleton).await {
                Ok(()) => None,
                // A concurrent registration of the same address (or a lookalike) won.
                Err(StoreError::Conflict {
                    constraint: "users_email_key" | "users_email_skeleton_key",
                }) => {
                    drop(tx);
                    let mut conn = self.db.acquire().await?;
                    let winner = users::find_by_email_or_skeleton(
                        &mut conn,
                        account.email.as_str(),
                        &skeleton,
                    )
                    .await?;
                    return self.answer_taken(actor, &row, winner.as_ref()).await;
                }
                Err(other) => return Err(other.into()),
            },
        };
        if let Some(existing) = taken {
            drop(tx);
            return self.answer_taken(actor, &row, Some(&existing)).await;
        }
        let entry = match actor {
            None => Entry::success("user.register").actor(&row.id),
            Some(actor) => Entry::success("user.create")
                .actor(actor)
                .detail(serde_json::json!({"platform_admin": platform_admin})),
        };
        record(&mut tx, entry.target(format!("user:{}", row.id))).await?;
        tx.commit().await?;
        tracing::info!(user_id = %row.id, "account registered");
        Ok(User::from(&row))
    }

    /// Stores the confusable skeleton of every user created before skeletons were kept
    /// (run at start-up; idempotent). A user whose skeleton another user already has keeps
    /// none, and is logged: two such accounts predate the check and both stay usable
    pub async fn backfill_email_skeletons(&self) -> Result<u64, ServiceError> {
        let mut after = String::new();
        let mut filled = 0_u64;
        loop {
            let mut conn = self.db.acquire().await?;
            let batch = users::missing_skeletons(&mut conn, &after, 500).await?;
            let Some((last, _)) = batch.last() else {
                return Ok(filled);
            };
            after.clone_from(last);
            for (id, email) in &batch {
                let Ok(parsed) = Email::parse(email) else {
                    continue;
                };
                match users::set_skeleton(&mut conn, id, &parsed.skeleton()).await {
                    Ok(()) => filled = filled.saturating_add(1),
                    Err(StoreError::Conflict { .. }) => {
                        tracing::warn!(user_id = %id, "email confusable with another account's; left as is");
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        }
    }

    /// The answer to a registration whose email is taken (or confusable with a taken
    /// one): for self-registration, the would-be account as if it had been created, with
    /// the notice in the audit log only; for the admin CLI, `EmailTaken`
    async fn answer_taken(
        &self,
        actor: Option<&str>,
        would_be: &UserRow,
        existing: Option<&UserRow>,
    ) -> Result<User, ServiceError> {
        if actor.is_some() {
            return Err(ServiceError::EmailTaken);
        }
        let reason = match existing {
            Some(e) if e.email == would_be.email => "an account with this email already exists",
            Some(_) => "the email is confusable with an existing account's",
            None => "an account with this email already exists",
        };
        let mut entry = Entry::failure("user.register").detail(serde_json::json!({
            "reason": reason,
            "notice": "you already have an account",
        }));
        if let Some(existing) = existing {
            entry = entry.target(format!("user:{}", existing.id));
        }
        self.audit(entry).await?;
        tracing::info!("registration of a taken email answered as a new one");
        Ok(User::from(would_be))
    }
}
