//! Benchmark of the `azurerm` driver against the in-repo Key Vault test server
//! (tests/it/azure_server): one vault with N secrets (values from generate())
//! and N EC keys, applied once, then a no-op `keyform plan --detailed-exitcode`
//! (it must exit 0), then destroyed. Prints the wall time of each step.
//!
//!   cargo bench --bench azure_bulk 2>/dev/null            # N = 200 (stderr: the server's request log)
//!   cargo bench --bench azure_bulk -- 1000 2>/dev/null    # N = 1000
//!
//! `cargo test --all-targets` runs it once with N = 2, as a smoke check that
//! it still works; its times mean nothing then.

// The server's own checks (#[test] functions) are not compiled here: what they use would be unused.
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/azure_server/mod.rs"]
mod azure_server;

use azure_server::AzureTestServer;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn configuration(server: &AzureTestServer, vault: &str, count: usize) -> String {
    let features = "      purge_soft_delete_on_destroy          = true\n      purge_soft_deleted_keys_on_destroy    = true\n      purge_soft_deleted_secrets_on_destroy = true";
    format!(
        r#"{provider}
resource "azurerm_key_vault" "bench" {{
  name                       = "{vault}"
  location                   = "westeurope"
  resource_group_name        = "keyform-bench"
  tenant_id                  = "{tenant}"
  sku_name                   = "standard"
  soft_delete_retention_days = 7
}}

resource "azurerm_key_vault_secret" "bench" {{
  count        = {count}
  key_vault_id = azurerm_key_vault.bench.id
  name         = "secret-${{count.index}}"
  value        = generate({{ length = 24 }})
}}

resource "azurerm_key_vault_key" "bench" {{
  count        = {count}
  key_vault_id = azurerm_key_vault.bench.id
  name         = "key-${{count.index}}"
  key_type     = "EC"
  curve        = "P-256"
  key_opts     = ["sign", "verify"]
}}
"#,
        provider = server.provider_block(features),
        tenant = server.tenant_id(),
    )
}

/// Runs keyform in `folder` against `server`; the wall time, or the exit and stderr when it fails.
fn keyform(server: &AzureTestServer, folder: &Path, arguments: &[&str]) -> Result<Duration, String> {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_keyform"))
        .args(arguments)
        .current_dir(folder)
        .envs(server.environment())
        .env("ARM_CLIENT_SECRET", server.client_secret())
        .env_remove("RUST_LOG")
        .output()
        .map_err(|error| format!("keyform could not start: {error}"))?;
    let elapsed = started.elapsed();
    if output.status.success() {
        Ok(elapsed)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "keyform {} exited with {}:\n{stderr}",
            arguments.join(" "),
            output.status
        ))
    }
}

fn run(count: usize) -> Result<(), String> {
    let server = AzureTestServer::start();
    let folder = tempfile::tempdir().map_err(|error| format!("a work folder: {error}"))?;
    let vault = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    std::fs::write(folder.path().join("main.hcl"), configuration(&server, &vault, count))
        .map_err(|error| format!("writing main.hcl: {error}"))?;
    keyform(&server, folder.path(), &["init"])?;
    let parallelism = ["--parallelism", "16"];
    let apply = keyform(
        &server,
        folder.path(),
        &[&["apply", "--auto-approve"][..], &parallelism].concat(),
    )?;
    let plan = keyform(
        &server,
        folder.path(),
        &[&["plan", "--detailed-exitcode"][..], &parallelism].concat(),
    )?;
    let destroy = keyform(
        &server,
        folder.path(),
        &[&["destroy", "--auto-approve"][..], &parallelism].concat(),
    )?;
    println!(
        "azure test server; 1 azurerm_key_vault + {count} azurerm_key_vault_secret + {count} azurerm_key_vault_key"
    );
    println!(
        "{:<10} {:<10} {:<14} {:<10}",
        "resources", "apply_s", "noop_plan_s", "destroy_s"
    );
    println!(
        "{:<10} {:<10.3} {:<14.3} {:<10.3}",
        2 * count + 1,
        apply.as_secs_f64(),
        plan.as_secs_f64(),
        destroy.as_secs_f64()
    );
    Ok(())
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let benchmarking = arguments.iter().any(|argument| argument == "--bench");
    let count = arguments
        .iter()
        .find_map(|argument| argument.parse::<usize>().ok())
        .unwrap_or(if benchmarking { 200 } else { 2 });
    if let Err(message) = run(count) {
        eprintln!("{message}");
        std::process::exit(1);
    }
}
