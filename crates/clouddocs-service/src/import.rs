//! `clouddocs users import`: accounts from another system, with the password hashes it
//! had (bcrypt, Argon2, Django's PBKDF2), each upgraded to Argon2id at its first sign-in.

use clouddocs_auth::password::is_importable_hash;
use clouddocs_domain::{DisplayName, Email, OrgId, OrgRole, UserId};
use clouddocs_store::sql::users::UserRow;
use clouddocs_store::sql::{orgs, users};

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, now_ms};

/// One account to import, as read from a file (not yet validated)
#[derive(Debug, Clone, Default)]
pub struct ImportRecord {
    /// The line of the file it came from (1-based)
    pub line: usize,
    /// Email
    pub email: String,
    /// Display name
    pub display_name: String,
    /// The stored hash from the other system
    pub password_hash: String,
    /// Whether the account arrives disabled
    pub disabled: bool,
    /// Memberships, `org_id:role` each
    pub orgs: Vec<String>,
}

/// A record that passed validation
#[derive(Debug)]
struct Valid {
    line: usize,
    email: Email,
    display_name: DisplayName,
    password_hash: String,
    disabled: bool,
    orgs: Vec<(OrgId, OrgRole)>,
}

/// What an import did (or, dry, would do)
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Accounts created
    pub imported: usize,
    /// Records whose email (or a lookalike of it) has an account already
    pub existing: usize,
    /// Records refused: `(line, reason)`
    pub rejected: Vec<(usize, String)>,
}

/// How to import
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Validate and count, write nothing
    pub dry_run: bool,
    /// Any refused record aborts the import before anything is written
    pub strict: bool,
}

/// Rows per transaction (and per audit event)
pub const IMPORT_BATCH: usize = 1000;

fn validate(record: ImportRecord) -> Result<Valid, (usize, String)> {
    let line = record.line;
    let fail = |reason: String| (line, reason);
    let email = Email::parse(&record.email).map_err(|e| fail(format!("email: {e}")))?;
    let name = if record.display_name.trim().is_empty() {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("user")
            .to_owned()
    } else {
        record.display_name
    };
    let display_name = DisplayName::parse(&name).map_err(|e| fail(format!("display_name: {e}")))?;
    is_importable_hash(&record.password_hash).map_err(|e| fail(format!("password_hash: {e}")))?;
    let mut memberships = Vec::new();
    for org in record
        .orgs
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
    {
        let (id, role) = org
            .split_once(':')
            .ok_or_else(|| fail(format!("orgs: `{org}` is not `org_id:role`")))?;
        let id: OrgId = id
            .parse()
            .map_err(|_| fail(format!("orgs: `{id}` is not an org id")))?;
        let role: OrgRole = role
            .parse()
            .map_err(|_| fail(format!("orgs: `{role}` is not admin, editor or viewer")))?;
        memberships.push((id, role));
    }
    Ok(Valid {
        line,
        email,
        display_name,
        password_hash: record.password_hash,
        disabled: record.disabled,
        orgs: memberships,
    })
}

impl Services {
    /// Imports `records` in batches of [`IMPORT_BATCH`], one transaction and one
    /// `user.import` audit event each. Existing emails (and lookalikes) are skipped and
    /// counted, so a re-run imports nothing new. `progress` is told how many records are
    /// done after each batch.
    pub async fn import_users(
        &self,
        records: Vec<ImportRecord>,
        options: ImportOptions,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::default();
        let mut valid = Vec::with_capacity(records.len());
        for record in records {
            match validate(record) {
                Ok(v) => valid.push(v),
                Err(rejected) => report.rejected.push(rejected),
            }
        }
        // Memberships must name orgs that exist: checked once per org.
        let mut known = std::collections::HashMap::<String, bool>::new();
        {
            let mut conn = self.db.acquire().await?;
            for v in &valid {
                for (org, _) in &v.orgs {
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        known.entry(org.to_string())
                    {
                        let exists = orgs::exists(&mut conn, slot.key()).await?;
                        slot.insert(exists);
                    }
                }
            }
        }
        let (valid, unknown_org): (Vec<Valid>, Vec<Valid>) = valid.into_iter().partition(|v| {
            v.orgs
                .iter()
                .all(|(o, _)| known.get(&o.to_string()) == Some(&true))
        });
        report.rejected.extend(
            unknown_org
                .into_iter()
                .map(|v| (v.line, "orgs: no such org".to_owned())),
        );
        report.rejected.sort();
        if options.strict && !report.rejected.is_empty() {
            return Ok(report);
        }
        let mut done = report.rejected.len();
        // The same address twice in one file: the second is an existing account too.
        let mut seen = std::collections::HashSet::new();
        for batch in valid.chunks(IMPORT_BATCH) {
            let mut tx = self.db.begin().await?;
            let mut imported = 0usize;
            let now = now_ms();
            for v in batch {
                let skeleton = v.email.skeleton();
                if !seen.insert(skeleton.clone())
                    || users::find_by_email_or_skeleton(&mut tx, v.email.as_str(), &skeleton)
                        .await?
                        .is_some()
                {
                    report.existing += 1;
                    continue;
                }
                let mut row = UserRow::new(
                    UserId::new().to_string(),
                    v.email.as_str().to_owned(),
                    v.display_name.as_str().to_owned(),
                    v.password_hash.clone(),
                    false,
                    now,
                );
                row.set_disabled(v.disabled);
                if !options.dry_run {
                    users::insert(&mut tx, &row, &skeleton).await?;
                    for (org, role) in &v.orgs {
                        orgs::upsert_member(&mut tx, &org.to_string(), &row.id, role.as_str(), now)
                            .await?;
                    }
                }
                imported += 1;
            }
            if options.dry_run {
                tx.rollback().await?;
            } else {
                record(
                    &mut tx,
                    Entry::success("user.import")
                        .actor("cli")
                        .detail(serde_json::json!({
                            "imported": imported,
                            "first_line": batch.first().map(|v| v.line),
                            "last_line": batch.last().map(|v| v.line),
                        })),
                )
                .await?;
                tx.commit().await?;
            }
            report.imported += imported;
            done += batch.len();
            progress(done);
        }
        Ok(report)
    }
}
