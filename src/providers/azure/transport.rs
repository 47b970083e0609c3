//! The one HTTP client every Azure call of a provider block goes through: the
//! token endpoint, Azure Resource Manager and the Key Vault data plane.
//!
//! It honours the standard proxy variables (`HTTPS_PROXY`, `NO_PROXY`) as
//! reqwest does, and trusts, beside the system's roots, every CA certificate in
//! the PEM file `SSL_CERT_FILE` names (a corporate TLS-inspecting proxy, or a
//! test server). It keeps the SDK's choices: no redirects, bounded connect
//! and read timeouts.

use crate::provider::{ProviderError, error_chain};
use azure_core::http::{ClientOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// The variable naming a PEM file of extra CA certificates to trust.
pub const CA_FILE_VARIABLE: &str = "SSL_CERT_FILE";

/// Builds the HTTP client: system roots plus `SSL_CERT_FILE`'s certificates, proxies from the environment.
pub fn http_client() -> Result<reqwest::Client, ProviderError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = std::env::var_os(CA_FILE_VARIABLE).filter(|path| !path.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let pem = std::fs::read(&path).map_err(|error| {
            ProviderError::new(
                "CaFileUnreadable",
                format!("{CA_FILE_VARIABLE} names `{shown}`, which cannot be read: {error}"),
            )
            .with_help(format!(
                "point {CA_FILE_VARIABLE} at a PEM file of CA certificates, or unset it"
            ))
        })?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
            ProviderError::new(
                "CaFileInvalid",
                format!(
                    "{CA_FILE_VARIABLE} (`{shown}`) holds no valid PEM certificate: {}",
                    error_chain(&error)
                ),
            )
        })?;
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build().map_err(|error| {
        ProviderError::new(
            "HttpClient",
            format!("the HTTP client for Azure could not be built: {}", error_chain(&error)),
        )
    })
}

/// SDK client options that send every request through `client`.
pub fn client_options(client: &reqwest::Client) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(Arc::new(client.clone()))),
        ..ClientOptions::default()
    }
}
