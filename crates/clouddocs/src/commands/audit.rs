//! `clouddocs audit verify`: recompute the hash chain offline and name the first broken link.

use clouddocs_http::startup::build_state;

use crate::config::Config;

pub(crate) async fn verify(config: Config) -> anyhow::Result<()> {
    let state = build_state(&super::serve::settings(&config)).await?;
    let report = state
        .svc
        .verify_audit_chain()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.svc.db().close().await;
    if report.ok {
        println!(
            "audit chain verified: {} events, head {}",
            report.count,
            report.head_hash.unwrap_or_default()
        );
        Ok(())
    } else {
        anyhow::bail!(
            "audit chain broken at event {}: {} ({} events verified before it)",
            report.broken_seq.unwrap_or_default(),
            report.error.unwrap_or_default(),
            report.count
        )
    }
}
