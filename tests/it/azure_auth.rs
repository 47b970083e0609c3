//! Authentication of the `azurerm` provider against the test server's Entra
//! ID token endpoint, through azure_identity: a client secret, and workload
//! identity with a federated token given as a value source, in a file named
//! by `oidc_token_file_path`, or in the file `AZURE_FEDERATED_TOKEN_FILE`
//! names (the binary, as in a Kubernetes pod); managed identity through the
//! App Service endpoint `IDENTITY_ENDPOINT` names (the test server's, on
//! loopback), system-assigned or user-assigned by `client_id`; and the Azure
//! CLI's login, through an `az` on PATH that answers `az account
//! get-access-token` as a signed-in CLI does. A wrong secret, token or
//! identity header is refused with a diagnostic that does not echo it.

use crate::azure_support::{
    configure, create, keyform_command, provider_attributes, provider_block, secret, server, unique, vault_attributes,
};
use crate::support::{Workspace, assert_exit, stderr, stdout};
use keyform::provider::{Attributes, ProviderError};
use keyform::secret::SensitiveString;
use std::collections::BTreeMap;

/// Configures the driver with `attributes` and `secrets` (which `configure` accepts), then makes a vault with it.
async fn make_a_vault(attributes: Attributes, secrets: BTreeMap<String, SensitiveString>) -> Result<(), ProviderError> {
    let provider = configure(attributes, secrets).await.expect("configure");
    let vault = vault_attributes(&unique("kv"), false);
    create(&provider, "azurerm_key_vault", &vault, BTreeMap::new())
        .await
        .map(|_| ())
}

/// A file holding the server's federated token, in a folder that lives as long as the returned handle.
fn token_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("token");
    std::fs::write(&file, server().federated_token()).expect("write the token file");
    (folder, file)
}

fn attributes_with(extra: serde_json::Value) -> Attributes {
    let mut attributes = provider_attributes(server(), serde_json::json!({}));
    for (name, value) in extra.as_object().cloned().unwrap_or_default() {
        attributes.insert(name, value);
    }
    attributes
}

#[tokio::test]
async fn a_client_secret_authenticates_and_a_wrong_one_is_refused_without_being_shown() {
    make_a_vault(
        attributes_with(serde_json::json!({})),
        secret("client_secret", server().client_secret()),
    )
    .await
    .expect("the right client secret works");

    let wrong_secret = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let error = make_a_vault(
        attributes_with(serde_json::json!({})),
        secret("client_secret", wrong_secret.clone()),
    )
    .await
    .expect_err("a wrong client secret is refused");
    assert_eq!(error.code, "AuthenticationFailed", "{error:?}");
    assert!(
        !format!("{error:?}").contains(&wrong_secret),
        "the secret is not echoed: {error:?}"
    );
}

#[tokio::test]
async fn workload_identity_authenticates_with_a_federated_token_from_a_value_source_or_a_file() {
    make_a_vault(
        attributes_with(serde_json::json!({})),
        secret("oidc_token", server().federated_token()),
    )
    .await
    .expect("a federated token as a value source works");

    let (_folder, file) = token_file();
    make_a_vault(
        attributes_with(serde_json::json!({ "use_oidc": true, "oidc_token_file_path": file.display().to_string() })),
        BTreeMap::new(),
    )
    .await
    .expect("a federated token file works");

    let error = make_a_vault(
        attributes_with(serde_json::json!({})),
        secret("oidc_token", "eyJhbGciOiJub25lIn0.e30."),
    )
    .await
    .expect_err("a forged token is refused");
    assert_eq!(error.code, "AuthenticationFailed", "{error:?}");
}

#[test]
fn the_binary_authenticates_with_azure_federated_token_file() {
    let (_folder, file) = token_file();
    let apply = apply_without_client_secret(
        &vault_configuration("  use_oidc        = true\n"),
        &[("AZURE_FEDERATED_TOKEN_FILE", &file.display().to_string())],
    );
    assert_exit(&apply, 0);
    assert!(
        !stdout(&apply).contains(&server().federated_token()) && !stderr(&apply).contains(&server().federated_token())
    );
}

/// The error `configure` answers with.
async fn refusal(attributes: Attributes, secrets: BTreeMap<String, SensitiveString>) -> ProviderError {
    match configure(attributes, secrets).await {
        Ok(_) => panic!("configure accepted a provider block it should refuse"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_provider_block_missing_what_it_needs_says_what_to_add() {
    let mut no_client = attributes_with(serde_json::json!({}));
    no_client.remove("client_id");
    let secrets = secret("client_secret", "x");
    let error = refusal(no_client, secrets.clone()).await;
    assert_eq!(error.code, "MissingClientId");
    let insecure = attributes_with(
        serde_json::json!({ "environment": { "resource_manager": "http://management.keyform.test/" } }),
    );
    let error = refusal(insecure, secrets).await;
    assert_eq!(error.code, "InsecureEndpoint");
    let error = refusal(
        attributes_with(serde_json::json!({ "use_cli": false })),
        BTreeMap::new(),
    )
    .await;
    assert_eq!(error.code, "NoAuthentication");
}

/// A configuration with a vault (Resource Manager) and a secret in it (the Key Vault data plane) whose provider
/// block authenticates with `authentication` (HCL lines) instead of the client secret.
fn vault_configuration(authentication: &str) -> String {
    let block =
        provider_block(server(), "").replace("  client_secret   = env(\"ARM_CLIENT_SECRET\")\n", authentication);
    format!(
        r#"{block}
resource "azurerm_key_vault" "main" {{
  name                = "{name}"
  location            = "westeurope"
  resource_group_name = "keyform-tests"
  tenant_id           = "{tenant}"
  sku_name            = "standard"
}}

resource "azurerm_key_vault_secret" "token" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "token"
  value        = generate({{ length = 24 }})
}}
"#,
        name = unique("kv"),
        tenant = server().tenant_id(),
    )
}

/// Applies `configuration` (which has no client secret) with the server's environment and `environment` on top.
fn apply_without_client_secret(configuration: &str, environment: &[(&str, &str)]) -> std::process::Output {
    let workspace = Workspace::initialized(configuration);
    keyform_command(&workspace, &["apply", "--auto-approve"])
        .env_remove("ARM_CLIENT_SECRET")
        .envs(environment.iter().copied())
        .output()
        .expect("run keyform")
}

/// Applies `configuration` with the managed identity environment, `IDENTITY_HEADER` replaced by `header` when given.
fn apply_with_managed_identity(configuration: &str, header: Option<&str>) -> std::process::Output {
    let mut environment = server().managed_identity_environment();
    if let Some(header) = header {
        environment.retain(|(name, _)| name != "IDENTITY_HEADER");
        environment.push(("IDENTITY_HEADER".to_string(), header.to_string()));
    }
    let environment: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    apply_without_client_secret(configuration, &environment)
}

#[test]
fn the_binary_authenticates_with_a_system_or_user_assigned_managed_identity() {
    let system_assigned = vault_configuration("  use_msi         = true\n")
        .replace(&format!("  client_id       = \"{}\"\n", server().client_id()), "");
    assert!(!system_assigned.contains("client_id"), "{system_assigned}");
    assert_exit(&apply_with_managed_identity(&system_assigned, None), 0);

    let user_assigned = vault_configuration("  use_msi         = true\n");
    assert!(user_assigned.contains(&server().client_id()), "{user_assigned}");
    assert_exit(&apply_with_managed_identity(&user_assigned, None), 0);

    let unknown_identity = user_assigned.replace(&server().client_id(), &uuid::Uuid::new_v4().to_string());
    let refused = apply_with_managed_identity(&unknown_identity, None);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("has not been assigned to this resource"),
        "{}",
        stderr(&refused)
    );

    let wrong_header = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let refused = apply_with_managed_identity(&user_assigned, Some(&wrong_header));
    assert_exit(&refused, 1);
    assert!(stderr(&refused).contains("X-IDENTITY-HEADER"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains(&wrong_header) && !stdout(&refused).contains(&wrong_header));
}

/// A folder holding an `az` that answers `az account get-access-token -o json --scope S --tenant T` as a signed-in
/// Azure CLI does (a token for S, issued by the test server) and, for another tenant, fails as the CLI does.
fn signed_in_azure_cli() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("a folder");
    let vault_token = server().issue_token("https://vault.keyform.test");
    let management_token = server().issue_token("https://management.keyform.test");
    let expires_on = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
        + 3000;
    let script = format!(
        r#"#!/bin/sh
scope=""; tenant=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scope) scope="$2"; shift ;;
    --tenant) tenant="$2"; shift ;;
  esac
  shift
done
if [ "$tenant" != "{tenant}" ]; then
  echo "ERROR: AADSTS90002: Tenant '$tenant' not found. Please run 'az login' to setup account." >&2
  exit 1
fi
case "$scope" in
  https://vault.keyform.test*) token="{vault_token}" ;;
  https://management.keyform.test*) token="{management_token}" ;;
  *) echo "ERROR: AADSTS500011: The resource principal named $scope was not found." >&2; exit 1 ;;
esac
printf '{{"accessToken":"%s","expiresOn":"2099-01-01 00:00:00.000000","expires_on":{expires_on},"subscription":"{subscription}","tenant":"{tenant}","tokenType":"Bearer"}}\n' "$token"
"#,
        tenant = server().tenant_id(),
        subscription = server().subscription_id(),
    );
    let az = folder.path().join("az");
    std::fs::write(&az, script).expect("write az");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("make az executable");
    folder
}

#[test]
fn the_binary_authenticates_with_the_azure_cli_login() {
    let cli = signed_in_azure_cli();
    let path = format!("{}:{}", cli.path().display(), std::env::var("PATH").unwrap_or_default());
    let configuration = vault_configuration("");
    assert_exit(&apply_without_client_secret(&configuration, &[("PATH", &path)]), 0);

    let other_tenant = configuration.replace(
        &format!("tenant_id       = \"{}\"", server().tenant_id()),
        &format!("tenant_id       = \"{}\"", uuid::Uuid::new_v4()),
    );
    let refused = apply_without_client_secret(&other_tenant, &[("PATH", &path)]);
    assert_exit(&refused, 1);
    assert!(stderr(&refused).contains("az login"), "{}", stderr(&refused));
}
