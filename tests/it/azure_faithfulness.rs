//! Faithfulness of the in-repo Azure test server, checked from outside: tests/azure/faithfulness.py drives it through
//! Microsoft's own Python SDKs (azure-identity, azure-keyvault-secrets, azure-keyvault-keys, installed into
//! .tools/venv by `scripts/services install`) and prints a JSON summary of what they saw, which this test asserts on.
//! The Rust SDK the driver uses is checked against the same expected answers for the soft-delete conflicts.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::azure_server::AzureTestServer;
use crate::azure_support::{configured_provider, new_vault, sdk_body, server, test_secret_client, unique};

/// What setting a soft-deleted name answers: status, code, inner code.
const SET_OVER_DELETED: (u16, &str, &str) = (409, "Conflict", "ObjectIsDeletedButRecoverable");
/// What setting a name still being recovered answers.
const SET_WHILE_RECOVERING: (u16, &str, &str) = (409, "Conflict", "ObjectIsBeingRecovered");
/// What purging under purge protection answers: status and code.
const PURGE_PROTECTED: (u16, &str) = (403, "Forbidden");

const INSTALL: &str = "run `scripts/services install` (it installs the pinned azure-identity, azure-keyvault-keys and \
                       azure-keyvault-secrets into .tools/venv)";

/// The venv python with Microsoft's SDKs; panics saying how to install them when they are missing.
fn python_with_azure_sdks() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    assert!(python.exists(), "{} does not exist: {INSTALL}", python.display());
    let check = Command::new(&python)
        .args([
            "-c",
            "import azure.identity, azure.keyvault.keys, azure.keyvault.secrets",
        ])
        .output()
        .expect("run the venv python");
    assert!(
        check.status.success(),
        "the venv lacks Microsoft's Python SDKs ({}): {INSTALL}",
        String::from_utf8_lossy(&check.stderr).trim()
    );
    python
}

/// Runs the script against a fresh server and returns its summary.
fn run_faithfulness_script() -> Value {
    let python = python_with_azure_sdks();
    let server = AzureTestServer::start();
    // long enough that the script's set right after a recovery falls inside it; its SDK pollers wait it out
    server.set_recovery_window(Duration::from_secs(3));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/azure/faithfulness.py");
    let output = Command::new(python)
        .arg(script)
        .envs(server.environment())
        .envs(server.managed_identity_environment())
        .env("KEYFORM_AZURE_TENANT_ID", server.tenant_id())
        .env("KEYFORM_AZURE_SUBSCRIPTION_ID", server.subscription_id())
        .env("KEYFORM_AZURE_CLIENT_ID", server.client_id())
        .env("KEYFORM_AZURE_CLIENT_SECRET", server.client_secret())
        .env("KEYFORM_AZURE_FEDERATED_TOKEN", server.federated_token())
        .env("KEYFORM_AZURE_AUTHORITY_HOST", server.authority_host())
        .env("KEYFORM_AZURE_RESOURCE_MANAGER", server.resource_manager())
        .env("KEYFORM_AZURE_KEY_VAULT_SUFFIX", server.key_vault_suffix())
        .output()
        .expect("run tests/azure/faithfulness.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "faithfulness.py failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        !stdout.contains(&server.client_secret()),
        "the script printed the client secret"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(summary).unwrap_or_else(|error| panic!("no JSON summary ({error}) in:\n{stdout}\n{stderr}"))
}

#[test]
fn microsoft_python_sdks_see_the_test_server_as_azure() {
    let summary = run_faithfulness_script();
    let expected = json!({
        "client_secret_token": true,
        "wrong_secret_refused": true,
        "client_assertion_token": true,
        "workload_identity_token": true,
        "managed_identity_token": true,
        "user_assigned_identity_token": true,
        "unknown_identity_refused": true,
        "arm_create": {
            "status": 201,
            "type": "Microsoft.KeyVault/vaults",
            "location": "westeurope",
            "vault_uri": true,
            "retention": 7,
            "purge_protection": true,
            "soft_delete": true,
            "sku": {"family": "A", "name": "standard"},
            "rbac": true,
            "provisioning_state": "Succeeded",
        },
        "arm_get": [200, true],
        "arm_refusals": {
            "retention_change": [400, "BadRequest", true],
            "purge_protection_off": [400, "BadRequest", true],
            "missing_api_version": [400, "MissingApiVersionParameter"],
            "unsupported_api_version": [400, "InvalidApiVersionParameter"],
            "no_token": [401, "AuthenticationFailed"],
            "bad_name": [400, "VaultNameNotValid"],
        },
        "arm_patch": [200, {"team": "platform"}, true],
        "arm_list": [200, true],
        "vault_lifecycle": {
            "delete": 200,
            "create_over_deleted": [409, "ConflictError"],
            "get_deleted": [200, "Microsoft.KeyVault/deletedVaults", true],
            "purge_protected": [400, "InvalidOperation"],
            "list_deleted": [200, true],
            "name_available": [200, false, "AlreadyExists"],
            "recover": [200, 7, true],
            "purge": 200,
            "get_after_purge": 404,
        },
        "secrets": {
            "versions_differ": true,
            "latest_is_second": true,
            "first_by_version": true,
            "content_type": "text/plain",
            "tags": {"owner": "keyform"},
            "recovery_level": "CustomizedRecoverable",
            "recoverable_days": 7,
            "versions": 2,
            "listed": true,
            "update": [true, "password"],
            "deleted": {"recovery_id": true, "retention_seconds": 7 * 24 * 3600, "listed": true},
            "get_deleted_name": [404, "SecretNotFound", null],
            "set_over_deleted": SET_OVER_DELETED,
            "purge_protected": PURGE_PROTECTED,
            "set_while_recovering": SET_WHILE_RECOVERING,
            "after_recovery": [true, 3],
            "purged": true,
            "plain_recovery_level": "Recoverable+Purgeable",
            "paging": [27, 6],
        },
        "keys": {
            "rsa": {
                "kty": "RSA",
                "modulus_bits": 3072,
                "exponent": "010001",
                "ops": ["sign", "verify"],
                "expires": true,
                "private_part": false,
            },
            "ec": {"kty": "EC-HSM", "crv": "P-384", "coordinate_bytes": [48, 48], "private_part": false},
            "default_policy": [["Notify", "P30D"]],
            "policy": {
                "expires_in": "P90D",
                "actions": [["Notify", "", "P10D"], ["Rotate", "P30D", ""]],
                "has_id": true,
            },
            "policy_too_short": [400, "BadParameter"],
            "rotate": {"new_version": true, "modulus_bits": 3072, "lifetime_days": 90, "versions": 2},
            "update": [false, {"tier": "hsm"}, "EC-HSM"],
            "listed": true,
            "deleted": true,
            "get_deleted": [true, true],
            "listed_deleted": true,
            "create_over_deleted": SET_OVER_DELETED,
            "purge_protected": PURGE_PROTECTED,
            "recovered": true,
            "policy_after_recovery": "P90D",
        },
        "protocol": {
            "unknown_vault": "unreachable",
            "challenge_status": 401,
            "challenge": true,
            "challenge_code": "Unauthorized",
            "unsupported_version": [400, "BadParameter"],
            "wrong_audience": 401,
            "api_version_7_5": 200,
        },
    });
    assert_eq!(
        summary,
        expected,
        "what Microsoft's Python SDKs saw differs from Azure's documented behaviour:\n{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
}

/// Status, code and inner code of an SDK error, read from the raw error body.
fn sdk_failure(error: &azure_core::Error) -> (u16, String, Option<String>) {
    let azure_core::error::ErrorKind::HttpResponse {
        status, raw_response, ..
    } = error.kind()
    else {
        panic!("not an HTTP error: {error}");
    };
    let body: Value = raw_response
        .as_ref()
        .and_then(|response| response.body().json().ok())
        .unwrap_or(Value::Null);
    let text = |value: &Value| value.as_str().map(str::to_string);
    (
        u16::from(*status),
        text(&body["error"]["code"]).unwrap_or_default(),
        text(&body["error"]["innererror"]["code"]),
    )
}

#[tokio::test]
async fn the_rust_sdk_sees_the_soft_delete_answers_the_python_sdks_see() {
    let provider = configured_provider(json!({})).await;
    let vault = new_vault(&provider, true).await;
    let vault_uri = vault.attributes["vault_uri"].as_str().unwrap_or_default().to_string();
    let vault_name = vault.attributes["name"].as_str().unwrap_or_default().to_string();
    assert!(
        !vault_name.is_empty(),
        "the vault's attributes name it: {:?}",
        vault.attributes
    );
    // long enough that the set right after the recovery always falls inside it, even on a loaded machine
    server().set_vault_recovery_window(&vault_name, Duration::from_secs(30));
    let client = test_secret_client(&vault_uri);
    let name = unique("compare");
    let set = || client.set_secret(&name, sdk_body(json!({"value": "a value"})), None);
    set().await.expect("set a secret");
    client.delete_secret(&name, None).await.expect("delete the secret");
    let over_deleted = sdk_failure(&set().await.expect_err("setting a soft-deleted name fails"));
    let purge = sdk_failure(
        &client
            .purge_deleted_secret(&name, None)
            .await
            .expect_err("purge is refused"),
    );
    client
        .recover_deleted_secret(&name, None)
        .await
        .expect("recover the secret");
    let recovering = sdk_failure(&set().await.expect_err("setting while recovering fails"));
    let expected = |(status, code, inner): (u16, &str, &str)| (status, code.to_string(), Some(inner.to_string()));
    assert_eq!(over_deleted, expected(SET_OVER_DELETED));
    assert_eq!((purge.0, purge.1.as_str()), PURGE_PROTECTED);
    assert_eq!(recovering, expected(SET_WHILE_RECOVERING));
}
