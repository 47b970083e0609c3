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
    let ca_file = std::env::var_os(CA_FILE_VARIABLE).filter(|path| !path.is_empty());
    http_client_trusting(ca_file.as_deref().map(std::path::Path::new))
}

/// The HTTP client, trusting the CA certificates of `ca_file` beside the system's roots.
fn http_client_trusting(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, ProviderError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|error| {
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

#[cfg(test)]
mod tests {
    use super::http_client_trusting;

    #[test]
    fn an_unreadable_or_invalid_ca_file_is_refused_with_its_name() {
        let folder = tempfile::tempdir().expect("a folder");
        let missing = folder.path().join("missing.pem");
        let error = http_client_trusting(Some(&missing)).expect_err("unreadable");
        assert_eq!(error.code, "CaFileUnreadable");
        assert!(error.message.contains("missing.pem"), "{}", error.message);
        let invalid = folder.path().join("invalid.pem");
        std::fs::write(
            &invalid,
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let error = http_client_trusting(Some(&invalid)).expect_err("invalid");
        assert_eq!(error.code, "CaFileInvalid");
        assert!(http_client_trusting(None).is_ok());
    }
}
