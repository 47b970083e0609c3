//! The canary harness of `canary.rs` over the `azurerm` provider: secret
//! values planted through `env()`, `file()` and `generate()` (and the
//! service principal's client secret) never appear, in any encoding, in any
//! file keyform writes or anything it prints with `RUST_LOG=trace`, through
//! validate, plan, a saved plan, apply, drift and destroy; `secret get`
//! returns them.

use crate::azure_support::{keyform_command, provider_block, server, unique, vault_resource};
use crate::canary::{Scanner, canary};
use crate::support::{Workspace, assert_exit, code, stderr, stdout};

#[test]
fn no_azure_secret_value_leaks_into_files_plans_or_output() {
    let (by_env, by_file) = (canary(), canary());
    let vault = unique("kv");
    let workspace = Workspace::initialized(&format!(
        r#"{provider}
{vault_block}
resource "azurerm_key_vault_secret" "from_env" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "from-env"
  value        = env("KF_AZURE_CANARY")
}}

resource "azurerm_key_vault_secret" "from_file" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "from-file"
  value        = file("secret.txt")
}}

resource "azurerm_key_vault_secret" "generated" {{
  key_vault_id = azurerm_key_vault.main.id
  name         = "generated"
  value        = generate({{ length = 40 }})
}}
"#,
        provider = provider_block(server(), "      purge_soft_deleted_secrets_on_destroy = true"),
        vault_block = vault_resource(&vault, 7, false),
    ));
    workspace.write("secret.txt", &by_file);
    let run = |arguments: &[&str]| {
        keyform_command(&workspace, arguments)
            .env("KF_AZURE_CANARY", &by_env)
            .env("RUST_LOG", "trace")
            .output()
            .expect("run keyform")
    };
    let mut outputs = Vec::new();
    for arguments in [
        &["validate"][..],
        &["plan", "--out", "saved.kfplan"],
        &["apply", "saved.kfplan"],
        &["plan", "--detailed-exitcode"],
        &["drift"],
    ] {
        let output = run(arguments);
        // Other tests' vaults on the shared server are unmanaged objects to `drift` (exit 2).
        if arguments[0] == "drift" {
            assert!(matches!(code(&output), 0 | 2), "{}{}", stdout(&output), stderr(&output));
        } else {
            assert_exit(&output, 0);
        }
        outputs.push((arguments.join(" "), output));
    }
    let mut read_back = Vec::new();
    for address in [
        "azurerm_key_vault_secret.from_env",
        "azurerm_key_vault_secret.from_file",
        "azurerm_key_vault_secret.generated",
    ] {
        let value = run(&["secret", "get", address]);
        assert_exit(&value, 0);
        read_back.push(stdout(&value).trim().to_string());
    }
    assert_eq!(read_back[0], by_env, "secret get returns the value");
    assert_eq!(read_back[1], by_file);
    let generated = read_back[2].clone();
    assert_eq!(generated.len(), 40, "the generated value was written");
    assert_eq!(
        server().secret_value(&vault, "generated").as_deref(),
        Some(generated.as_str())
    );
    let destroy = run(&["destroy", "--auto-approve"]);
    assert_exit(&destroy, 0);
    outputs.push(("destroy".to_string(), destroy));

    let scanner = Scanner::new(&[by_env, by_file, generated, server().client_secret()]);
    let hits = scanner.scan_run(workspace.path(), &["secret.txt"], &outputs);
    assert!(hits.is_empty(), "secret values leaked:\n{}", hits.join("\n"));
}
