//! Authentication of the `azurerm` provider against the test server's Entra
//! ID token endpoint, through azure_identity: a client secret, and workload
//! identity with a federated token given as a value source, in a file named
//! by `oidc_token_file_path`, or in the file `AZURE_FEDERATED_TOKEN_FILE`
//! names (the binary, as in a Kubernetes pod). A wrong secret or token is
//! refused with a diagnostic that does not echo it. Managed identity and
//! the Azure CLI's login are not covered here: no test can stand in for
//! them (docs/providers/azure.md says so).

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
    let block = provider_block(server(), "").replace(
        "  client_secret   = env(\"ARM_CLIENT_SECRET\")\n",
        "  use_oidc        = true\n",
    );
    let workspace = Workspace::initialized(&format!(
        r#"{block}
resource "azurerm_key_vault" "ci" {{
  name                = "{name}"
  location            = "westeurope"
  resource_group_name = "keyform-tests"
  tenant_id           = "{tenant}"
  sku_name            = "standard"
}}
"#,
        name = unique("kv"),
        tenant = server().tenant_id(),
    ));
    let apply = keyform_command(&workspace, &["apply", "--auto-approve"])
        .env_remove("ARM_CLIENT_SECRET")
        .env("AZURE_FEDERATED_TOKEN_FILE", &file)
        .output()
        .expect("run keyform");
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
