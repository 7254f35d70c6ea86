//! `clouddocs keys rotate`: a new current signing key. Running nodes pick it up the first
//! time they see a token signed with it, or on restart; old public keys stay published
//! until every token they signed has expired.

use clouddocs_http::startup::build_state;

use crate::config::Config;

pub(crate) async fn rotate(config: Config) -> anyhow::Result<()> {
    let state = build_state(&super::serve::settings(&config)).await?;
    let kid = state
        .svc
        .rotate_signing_key("cli")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("new current signing key: {kid}");
    state.svc.db().close().await;
    Ok(())
}
