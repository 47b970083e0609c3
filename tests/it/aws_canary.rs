//! The canary harness over the `aws` provider: secret values planted through
//! every value source (env, file, a var file, KEYFORM_VAR_) reach Secrets
//! Manager exactly, and never appear, in any encoding, in a file keyform
//! writes, a saved plan or anything it prints with `RUST_LOG=trace`, across
//! plan, apply, show, state, drift, a secret changed behind keyform's back
//! and a failing apply.

use crate::aws_support::{current_value, keyform_with, secrets_manager_client, unique, with_provider};
use crate::canary::{Scanner, canary};
use crate::services::aws_endpoint;
use crate::support::{Workspace, assert_exit, stderr, stdout};
use std::process::Output;

/// Files the test writes with a canary in them on purpose.
const PLANTED: [&str; 2] = ["secret.txt", "secrets.tfvars"];

fn configuration(endpoint: &str, prefix: &str) -> String {
    with_provider(
        endpoint,
        &format!(
            r#"variable "from_file" {{
  type      = string
  sensitive = true
}}

variable "from_env" {{
  type      = string
  sensitive = true
}}

resource "aws_kms_key" "secrets" {{
  description             = "{prefix} canary key"
  deletion_window_in_days = 7
}}

resource "aws_secretsmanager_secret" "by_env" {{
  name                    = "{prefix}/by-env"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 0
  value                   = env("KF_CANARY_ENV")
}}

resource "aws_secretsmanager_secret" "by_file" {{
  name                    = "{prefix}/by-file"
  recovery_window_in_days = 0
  value                   = file("secret.txt")
}}

resource "aws_secretsmanager_secret" "by_var_file" {{
  name                    = "{prefix}/by-var-file"
  recovery_window_in_days = 0
  value                   = var.from_file
}}

resource "aws_secretsmanager_secret" "by_env_var" {{
  name                    = "{prefix}/by-env-var"
  recovery_window_in_days = 0
  value                   = var.from_env
}}

output "key_arn" {{
  value = aws_kms_key.secrets.arn
}}
"#
        ),
    )
}

/// A resource AWS refuses (an alias of a key that does not exist), for the failing apply.
fn failing(prefix: &str) -> String {
    format!(
        r#"
resource "aws_kms_alias" "refused" {{
  name          = "alias/{prefix}-refused"
  target_key_id = "00000000-0000-0000-0000-000000000000"
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_value_sent_to_aws_leaks_into_files_plans_or_output() {
    let endpoint = aws_endpoint();
    let prefix = unique("canary");
    let [by_env, by_file, by_var_file, by_env_var, behind] = std::array::from_fn(|_| canary());
    let scanner = Scanner::new(&[&by_env, &by_file, &by_var_file, &by_env_var, &behind].map(String::clone));

    let workspace = Workspace::new();
    let config = configuration(&endpoint, &prefix);
    workspace.write("main.hcl", &config);
    workspace.write("secret.txt", &by_file);
    workspace.write("secrets.tfvars", &format!("from_file = \"{by_var_file}\"\n"));
    let environment = [
        ("RUST_LOG", "trace"),
        ("KF_CANARY_ENV", by_env.as_str()),
        ("KEYFORM_VAR_from_env", by_env_var.as_str()),
    ];
    let run = |arguments: &[&str]| -> Output { keyform_with(&workspace, arguments, &environment) };
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let steps: [&[&str]; 12] = [
        &["init"],
        &["validate", "--var-file", "secrets.tfvars"],
        &["plan", "--var-file", "secrets.tfvars", "--format", "json"],
        &["plan", "--var-file", "secrets.tfvars", "--format", "markdown"],
        &["plan", "--var-file", "secrets.tfvars", "--out", "plan.kfplan"],
        &["apply", "plan.kfplan"],
        &["show"],
        &["show", "plan.kfplan"],
        &["output", "--json"],
        &["state", "show", "aws_secretsmanager_secret.by_env"],
        &["state", "list"],
        &["plan", "--var-file", "secrets.tfvars", "--detailed-exitcode"],
    ];
    for arguments in steps {
        let output = run(arguments);
        assert_exit(&output, 0);
        outputs.push((arguments.join(" "), output));
    }

    // Drift finds nothing of this configuration's (the shared moto holds other tests' objects, which it
    // lists as unmanaged: exit 2 then).
    let drift = run(&["drift", "--var-file", "secrets.tfvars"]);
    assert!(matches!(crate::support::code(&drift), 0 | 2), "{}", stderr(&drift));
    assert!(
        !stdout(&drift).contains("aws_secretsmanager_secret.by_"),
        "{}",
        stdout(&drift)
    );
    outputs.push(("drift".into(), drift));

    // Each value reached AWS exactly, and `secret get` reads it back.
    let client = secrets_manager_client(&endpoint);
    for (suffix, address, expected) in [
        ("by-env", "aws_secretsmanager_secret.by_env", &by_env),
        ("by-file", "aws_secretsmanager_secret.by_file", &by_file),
        ("by-var-file", "aws_secretsmanager_secret.by_var_file", &by_var_file),
        ("by-env-var", "aws_secretsmanager_secret.by_env_var", &by_env_var),
    ] {
        let (_, stored) = current_value(&client, &format!("{prefix}/{suffix}")).await;
        assert_eq!(&stored, expected, "{suffix} at AWS");
        let read = run(&["secret", "get", address]);
        assert_exit(&read, 0);
        assert_eq!(stdout(&read).trim_end_matches('\n'), expected.as_str(), "{address}");
    }

    // A value written behind keyform's back: drift and the plan show a version, never the value;
    // apply puts the configured value back.
    client
        .put_secret_value()
        .secret_id(format!("{prefix}/by-env"))
        .secret_string(&behind)
        .send()
        .await
        .expect("PutSecretValue");
    for arguments in [
        &["drift", "--var-file", "secrets.tfvars"][..],
        &["plan", "--var-file", "secrets.tfvars"],
    ] {
        let output = run(arguments);
        assert!(
            stdout(&output).contains("aws_secretsmanager_secret.by_env"),
            "{}{}",
            stdout(&output),
            stderr(&output)
        );
        outputs.push((
            format!("{} after a change outside keyform", arguments.join(" ")),
            output,
        ));
    }
    let restore = run(&["apply", "--auto-approve", "--var-file", "secrets.tfvars"]);
    assert_exit(&restore, 0);
    outputs.push(("apply restoring the value".into(), restore));
    let (_, restored) = current_value(&client, &format!("{prefix}/by-env")).await;
    assert_eq!(restored, by_env);

    // A failing apply, with the secrets in place.
    workspace.write("main.hcl", &format!("{config}{}", failing(&prefix)));
    let failed = run(&["apply", "--auto-approve", "--var-file", "secrets.tfvars"]);
    assert_exit(&failed, 1);
    outputs.push(("failing apply".into(), failed));
    workspace.write("main.hcl", &config);

    let destroy = run(&["destroy", "--auto-approve", "--var-file", "secrets.tfvars"]);
    assert_exit(&destroy, 0);
    outputs.push(("destroy".into(), destroy));

    let hits = scanner.scan_run(workspace.path(), &PLANTED, &outputs);
    assert!(
        workspace.path().join("plan.kfplan").is_file(),
        "the saved plan is scanned"
    );
    assert!(hits.is_empty(), "secret values leaked:\n{}", hits.join("\n"));
    // The scan finds what is there.
    let planted = scanner.scan_folder(workspace.path(), &[]);
    for name in PLANTED {
        assert!(
            planted.iter().any(|hit| hit.starts_with(&format!("{name}:"))),
            "the scan missed {name}: {planted:?}"
        );
    }
}
