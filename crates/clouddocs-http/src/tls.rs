//! Built-in TLS: rustls (aws-lc-rs provider) through axum-server, so a deployment without a
//! TLS-terminating proxy still gets transport security.
//!
//! Only rustls's safe defaults are used: TLS 1.3 and TLS 1.2 with forward-secret AEAD cipher
//! suites, ALPN `h2` and `http/1.1`, no client certificates.

use std::path::PathBuf;

pub use axum_server::tls_rustls::RustlsConfig;

/// Where the PEM certificate chain and private key are
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1)
    pub key: PathBuf,
}

/// Installs the aws-lc-rs provider as the process default, if none is installed yet.
///
/// In test builds rustls may have both `ring` and `aws-lc-rs` enabled; without an installed
/// default, `ServerConfig::builder()` cannot choose and panics.
pub fn install_crypto_provider() {
    // An `Err` only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Reads the certificate chain and key and builds the server's rustls configuration
///
/// # Errors
/// When a file cannot be read, holds no certificate or key, or the key does not match.
pub async fn load(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "cannot load TLS certificate `{}` and key `{}`: {err}",
                files.cert.display(),
                files.key.display()
            )
        })
}
