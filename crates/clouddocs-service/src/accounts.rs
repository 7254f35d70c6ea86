//! Registration, login, profile and password changes.

use clouddocs_auth::password::Verification;
use clouddocs_auth::token;
use clouddocs_domain::{Amr, DisplayName, Email, Password, Principal, check_strength};
use clouddocs_store::sql::users::UserRow;
use clouddocs_store::sql::{sessions, users};
use serde::Serialize;

use crate::audit::{Entry, record};
use crate::mfa::{Enrolled, SignIn};
use crate::{ServiceError, Services, ValidationError, millis, now_ms, throttle};

/// The one strength check of a new password, at registration and at every change: weak,
/// common, or guessable from the account's own email, its local part, the display name or
/// the product's name is refused
pub(crate) fn check_password_strength(
    password: &Password,
    email: &str,
    display_name: &str,
) -> Result<(), ServiceError> {
    let local_part = email.split('@').next().unwrap_or_default();
    check_strength(password, &[email, local_part, display_name, "clouddocs"])
        .map_err(ValidationError::from)?;
    Ok(())
}

/// A user as any response may show it: never the password hash
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    /// The user's id
    pub id: String,
    /// The normalized email
    pub email: String,
    /// The display name
    pub display_name: String,
    /// Whether the user is a platform administrator
    pub platform_admin: bool,
    /// Whether the account is disabled
    pub disabled: bool,
    /// Creation time, unix milliseconds
    pub created_at: i64,
}

impl From<&UserRow> for User {
    fn from(row: &UserRow) -> Self {
        Self {
            id: row.id.clone(),
            email: row.email.clone(),
            display_name: row.display_name.clone(),
            platform_admin: row.platform_admin(),
            disabled: row.disabled(),
            created_at: row.created_at,
        }
    }
}

/// A validated registration
#[derive(Debug)]
pub struct NewAccount {
    /// The email
    pub email: Email,
    /// The chosen password (strength is checked by the use case)
    pub password: Password,
    /// The display name
    pub display_name: DisplayName,
}

/// What a successful password login yields: secrets to hand to the client once
#[derive(Debug)]
pub struct LoginOutcome {
    /// The user
    pub user: User,
    /// The session's public id
    pub session_id: String,
    /// The cookie secret (only its digest is stored)
    pub session_token: String,
    /// The CSRF token bound to the session (only its digest is stored)
    pub csrf_token: String,
}

impl Services {
    /// Checks an email and password; unknown email, wrong password and disabled account
    /// are indistinguishable, in answer and in time
    /// The credential check alone, unthrottled, as a view (benchmarks measure it); every
    /// sign-in path goes through the throttled `check_password` instead
    pub async fn check_credentials_unthrottled(
        &self,
        email: &str,
        password: &str,
    ) -> Result<User, ServiceError> {
        Ok(User::from(&self.verify_credentials(email, password).await?))
    }

    pub(crate) async fn verify_credentials(
        &self,
        email: &str,
        password: &str,
    ) -> Result<UserRow, ServiceError> {
        // A password outside the length bounds can never match: still spend the same time.
        let password = Password::parse(password)
            .or_else(|_| Password::parse("clouddocs-out-of-bounds-password"))
            .map_err(|_| ServiceError::InvalidCredentials)?;
        let row = match Email::parse(email) {
            Ok(email) => {
                let mut conn = self.db.acquire().await?;
                users::find_by_email(&mut conn, email.as_str()).await?
            }
            Err(_) => None,
        };
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        let verification = self.hasher.verify(password, stored).await?;
        match (row, verification) {
            (Some(row), Verification::Valid { rehash }) if !row.disabled() => {
                if let Some(new_hash) = rehash {
                    let mut conn = self.db.acquire().await?;
                    users::set_password_hash(&mut conn, &row.id, &new_hash, now_ms()).await?;
                    self.user_changed(&row.id);
                }
                Ok(row)
            }
            (row, _) => {
                let mut entry = Entry::failure("auth.login")
                    .detail(serde_json::json!({"reason": "invalid credentials"}));
                if let Some(row) = row {
                    entry = entry.target(format!("user:{}", row.id));
                }
                self.audit(entry).await?;
                Err(ServiceError::InvalidCredentials)
            }
        }
    }

    /// The one throttled password check behind every sign-in path (`/auth/login`, the
    /// `/login` page, the `password` grant): refuses a locked account or a spent account
    /// bucket before verifying, counts a failure, gives the token back on success
    ///
    /// For an account with a second factor the failure count is not reset here, only once
    /// the second factor is right too: a known password must not buy fresh code guesses.
    pub(crate) async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(UserRow, Enrolled), ServiceError> {
        let attempt = self.throttle.take_account(email).await?;
        match self.verify_credentials(email, password).await {
            Ok(row) => {
                self.throttle.succeeded(attempt).await;
                let enrolled = self.enrolled(&row.id).await?;
                if !enrolled.any() {
                    self.throttle.account_succeeded(email).await;
                }
                Ok((row, enrolled))
            }
            Err(ServiceError::InvalidCredentials) => {
                if let Some(retry_after_secs) = self.throttle.account_failed(email).await {
                    tracing::warn!(retry_after_secs, "account locked after repeated failures");
                    let mut entry = Entry::failure("auth.lockout")
                        .detail(serde_json::json!({"retry_after_secs": retry_after_secs}));
                    if let Ok(e) = Email::parse(email) {
                        entry = entry.target(format!("account:{e}"));
                    }
                    if let Err(err) = self.audit(entry).await {
                        tracing::error!(error = %err, "cannot record a lockout");
                    }
                }
                Err(ServiceError::InvalidCredentials)
            }
            Err(other) => Err(other),
        }
    }

    /// Password login that opens a browser session, for `/auth/login` and the `/login`
    /// page alike: limited per client address and per account (failures only). For an
    /// account with a second factor, the answer is a challenge instead of a session.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        addr: Option<std::net::IpAddr>,
        user_agent: Option<String>,
    ) -> Result<SignIn, ServiceError> {
        let per_address = self.throttle.take_ip(throttle::Gate::Login, addr).await?;
        let (row, enrolled) = self.check_password(email, password).await?;
        self.throttle.succeeded(per_address).await;
        if enrolled.any() {
            return Ok(SignIn::SecondFactor(
                self.issue_challenge(&row, enrolled, None).await?,
            ));
        }
        Ok(SignIn::Complete(
            self.open_session(&row, Amr::PASSWORD, addr, user_agent)
                .await?,
        ))
    }

    /// Opens a browser session for a user whose sign-in proved `amr`
    pub(crate) async fn open_session(
        &self,
        row: &UserRow,
        amr: Amr,
        addr: Option<std::net::IpAddr>,
        user_agent: Option<String>,
    ) -> Result<LoginOutcome, ServiceError> {
        let ip = addr.map(|a| a.to_string());
        let session_token = token::random_token(32)?;
        let csrf_token = token::random_token(32)?;
        let now = now_ms();
        let session = sessions::SessionRow {
            id: clouddocs_domain::SessionId::new().to_string(),
            token_hash: token::digest(&session_token),
            csrf_hash: token::digest(&csrf_token),
            user_id: row.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now.saturating_add(millis(self.config.session_absolute)),
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(256).collect()),
            amr: amr.to_string(),
        };
        let mut tx = self.db.begin().await?;
        sessions::insert(&mut tx, &session).await?;
        record(
            &mut tx,
            Entry::success("auth.login")
                .actor(&row.id)
                .target(format!("session:{}", session.id))
                .detail(serde_json::json!({"amr": amr.values()})),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %row.id, session_id = %session.id, "login succeeded");
        Ok(LoginOutcome {
            user: User::from(row),
            session_id: session.id,
            session_token,
            csrf_token,
        })
    }

    /// The caller's own profile
    pub async fn me(&self, principal: &Principal) -> Result<User, ServiceError> {
        let id = principal.user_id.to_string();
        let ticket = match self.users.get(&id) {
            Ok(user) => return Ok((*user).clone()),
            Err(ticket) => ticket,
        };
        let mut conn = self.db.acquire().await?;
        let row = users::find(&mut conn, &id)
            .await?
            .ok_or(ServiceError::AccountGone)?;
        let user = User::from(&row);
        self.users
            .fill(ticket, &id, std::sync::Arc::new(user.clone()));
        Ok(user)
    }

    /// Forgets the cached profile of `user_id`; every change to a user row calls it once
    /// its transaction has committed
    pub(crate) fn user_changed(&self, user_id: &str) {
        self.users.invalidate(user_id);
    }

    /// Changes the caller's display name
    pub async fn update_display_name(
        &self,
        principal: &Principal,
        display_name: DisplayName,
    ) -> Result<User, ServiceError> {
        let id = principal.user_id.to_string();
        let mut tx = self.db.begin().await?;
        users::set_display_name(&mut tx, &id, display_name.as_str(), now_ms()).await?;
        record(
            &mut tx,
            Entry::success("user.update")
                .by(principal)
                .target(format!("user:{id}")),
        )
        .await?;
        let row = users::find(&mut tx, &id)
            .await?
            .ok_or(ServiceError::AccountGone)?;
        tx.commit().await?;
        self.user_changed(&id);
        Ok(User::from(&row))
    }

    /// Checks the caller's current password before a sensitive change to their account
    /// (`action` names the change in the audit log when the password is wrong)
    pub(crate) async fn confirm_own_password(
        &self,
        principal: &Principal,
        current: &str,
        action: &'static str,
    ) -> Result<UserRow, ServiceError> {
        let id = principal.user_id.to_string();
        let row = {
            let mut conn = self.db.acquire().await?;
            users::find(&mut conn, &id)
                .await?
                .ok_or(ServiceError::AccountGone)?
        };
        let current = Password::parse(current).map_err(|_| ServiceError::WrongCurrentPassword)?;
        match self
            .hasher
            .verify(current, Some(row.password_hash.clone()))
            .await?
        {
            Verification::Valid { .. } => Ok(row),
            Verification::Invalid => {
                self.audit(
                    Entry::failure(action)
                        .by(principal)
                        .target(format!("user:{id}")),
                )
                .await?;
                Err(ServiceError::WrongCurrentPassword)
            }
        }
    }

    /// Changes the caller's password after checking the current one, and ends every other
    /// session of the user (`keep_session` is the one making the change, if any)
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: Password,
        keep_session: Option<&str>,
    ) -> Result<(), ServiceError> {
        let id = principal.user_id.to_string();
        let row = self
            .confirm_own_password(principal, current, "user.password_change")
            .await?;
        check_password_strength(&new, &row.email, &row.display_name)?;
        let hash = self.hasher.hash(new).await?;
        let mut tx = self.db.begin().await?;
        users::set_password_hash(&mut tx, &id, &hash, now_ms()).await?;
        let ended = sessions::delete_all_for_user(&mut tx, &id, keep_session).await?;
        record(
            &mut tx,
            Entry::success("user.password_change")
                .by(principal)
                .target(format!("user:{id}"))
                .detail(serde_json::json!({"sessions_ended": ended})),
        )
        .await?;
        tx.commit().await?;
        self.user_changed(&id);
        self.revoke_user_tokens(&id, "password changed").await?;
        tracing::info!(user_id = %id, sessions_ended = ended, "password changed");
        Ok(())
    }
}
