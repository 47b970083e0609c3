//! The azure_identity credential of a provider block, for its authentication
//! method and cloud: client secret, workload identity (a federated token as
//! a value source, or the file `AZURE_FEDERATED_TOKEN_FILE` names), managed
//! identity, or the Azure CLI's login. Every credential but the CLI's sends
//! its token requests through the provider's HTTP client ([`super::transport`]).
//!
//! **The client secret and the federated token live only in
//! `SensitiveString`s and in the token request's body.**

use super::settings::{Authentication, Settings};
use crate::provider::{ProviderError, error_chain};
use crate::secret::SensitiveString;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientMethodOptions, ClientOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::sync::Arc;

/// A federated token given as a value source, handed to Entra ID as the client assertion.
#[derive(Debug)]
struct FederatedToken(SensitiveString);

#[async_trait::async_trait]
impl ClientAssertion for FederatedToken {
    async fn secret(&self, _options: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(self.0.expose().to_string())
    }
}

fn credential_error(method: &str, error: &azure_core::Error) -> ProviderError {
    ProviderError::new(
        "CredentialUnavailable",
        format!("the {method} credential could not be set up: {}", error_chain(error)),
    )
}

/// Client options for a credential: the provider's transport and its cloud's authority host.
fn identity_options(settings: &Settings, transport: &ClientOptions) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = settings.environment.authority_host.trim_end_matches('/').to_string();
    let mut options = transport.clone();
    options.cloud = Some(Arc::new(CloudConfiguration::from(cloud)));
    options
}

/// Builds the credential a provider block asks for.
pub fn credential(settings: &Settings, transport: &ClientOptions) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let client_options = identity_options(settings, transport);
    let tenant_id = settings.tenant_id.clone();
    let credential: Arc<dyn TokenCredential> = match &settings.authentication {
        Authentication::ClientSecret { client_id, secret } => ClientSecretCredential::new(
            &tenant_id,
            client_id.clone(),
            Secret::new(secret.expose().to_string()),
            Some(ClientSecretCredentialOptions { client_options }),
        )
        .map_err(|error| credential_error("client secret", &error))?,
        Authentication::FederatedToken { client_id, token } => ClientAssertionCredential::new(
            tenant_id,
            client_id.clone(),
            FederatedToken(token.clone()),
            Some(ClientAssertionCredentialOptions { client_options }),
        )
        .map_err(|error| credential_error("workload identity", &error))?,
        Authentication::FederatedTokenFile { client_id, path } => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant_id),
                token_file_path: path.clone(),
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(|error| {
                credential_error("workload identity", &error).with_help(
                    "set oidc_token_file_path, or AZURE_FEDERATED_TOKEN_FILE to the federated token's file (Kubernetes workload identity sets it), or give oidc_token as a value source",
                )
            })?
        }
        Authentication::ManagedIdentity { client_id } => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options,
            };
            ManagedIdentityCredential::new(Some(options))
                .map_err(|error| credential_error("managed identity", &error))?
        }
        Authentication::AzureCli => {
            let options = AzureCliCredentialOptions {
                tenant_id: Some(tenant_id),
                ..AzureCliCredentialOptions::default()
            };
            AzureCliCredential::new(Some(options)).map_err(|error| credential_error("Azure CLI", &error))?
        }
    };
    Ok(credential)
}

/// A bearer token for `scope` (`https://management.azure.com/.default`).
pub async fn token(credential: &dyn TokenCredential, scope: &str) -> Result<SensitiveString, ProviderError> {
    let token = credential.get_token(&[scope], None).await.map_err(|error| {
        ProviderError::new(
            "AuthenticationFailed",
            format!("no token for `{scope}`: {}", error_chain(&error)),
        )
        .with_help(
            "check tenant_id, client_id and the credential (client_secret, the federated token, the managed identity or `az login`)",
        )
    })?;
    Ok(SensitiveString::new(token.token.secret().to_string()))
}
