//! `clouddocs users …`: account administration from the shell.

use std::io::Read;

use anyhow::{Context, bail};
use clouddocs_domain::{DisplayName, Email, Password};
use clouddocs_http::startup::build_state;
use clouddocs_service::NewAccount;

use crate::cli::UsersCommand;
use crate::config::Config;

pub(crate) async fn run(config: Config, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Create {
            email,
            display_name,
            admin,
        } => create(config, &email, display_name, admin).await,
    }
}

async fn create(
    config: Config,
    email: &str,
    display_name: Option<String>,
    admin: bool,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut raw = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut raw)
        .context("cannot read the password from stdin")?;
    let raw = raw.trim_end_matches(['\n', '\r']);
    if raw.is_empty() {
        bail!(
            "no password on stdin: pipe it in, e.g. `printf '%s' \"$PW\" | clouddocs users create …`"
        );
    }
    let password = Password::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = display_name.unwrap_or_else(|| {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("user")
            .to_owned()
    });
    let display_name = DisplayName::parse(&name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = build_state(&super::serve::settings(&config)).await?;
    let user = state
        .svc
        .create_user_by_cli(
            NewAccount {
                email,
                password,
                display_name,
            },
            admin,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "created user {} <{}>{}",
        user.id,
        user.email,
        if admin { " (platform admin)" } else { "" }
    );
    state.svc.db().close().await;
    Ok(())
}
