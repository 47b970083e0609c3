//! Secret values never leak: canaries planted through every value source must
//! not appear, in any encoding, in any file keyform writes, in a saved plan or in
//! anything it prints (with `RUST_LOG=trace`), while `secret get` returns them.
//!
//! [`canary`] and [`Scanner`] are shared: each provider's canary test plants
//! its canaries and scans its workspace and outputs with them.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::support::{Workspace, assert_exit, stderr, stdout};

/// Files the test writes with a canary in them on purpose.
const PLANTED: [&str; 2] = ["secret.txt", "secrets.tfvars"];

pub(crate) fn canary() -> String {
    format!("CANARY-{}", uuid::Uuid::new_v4().simple())
}

/// Every form of `canary` that must not appear: itself, base64 (standard and
/// url-safe, padded or not, at the three alignments), hex and JSON-escaped.
fn needles(canary: &str) -> Vec<(String, Vec<u8>)> {
    let mut needles = vec![("plain".to_string(), canary.as_bytes().to_vec())];
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64-nopad", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE),
        ("base64url-nopad", &URL_SAFE_NO_PAD),
    ] {
        needles.push((format!("{name} whole"), engine.encode(canary).into_bytes()));
        for prefix in 0..3 {
            let mut bytes = vec![b'x'; prefix];
            bytes.extend_from_slice(canary.as_bytes());
            let encoded = engine.encode(&bytes);
            // The first group holds prefix bytes and the last one holds what follows
            // the canary (or padding): the middle depends on the canary alone.
            let middle = &encoded[4..encoded.len() - 4];
            needles.push((format!("{name} at alignment {prefix}"), middle.as_bytes().to_vec()));
        }
    }
    needles.push(("hex".to_string(), hex::encode(canary).into_bytes()));
    needles.push(("HEX".to_string(), hex::encode_upper(canary).into_bytes()));
    let json = serde_json::to_string(canary).expect("json");
    needles.push(("json".to_string(), json.trim_matches('"').as_bytes().to_vec()));
    let escaped: String = canary
        .chars()
        .map(|character| format!("\\u{:04x}", character as u32))
        .collect();
    needles.push(("json \\u-escaped".to_string(), escaped.into_bytes()));
    needles
}

/// memchr's substring search: `RUST_LOG=trace` output runs to megabytes, too much for a naive scan.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

/// What leaks: (where, which canary, which encoding) for each hit.
pub(crate) struct Scanner {
    needles: Vec<(String, String, Vec<u8>)>,
}

impl Scanner {
    pub(crate) fn new(canaries: &[String]) -> Scanner {
        let needles = canaries
            .iter()
            .flat_map(|canary| {
                needles(canary)
                    .into_iter()
                    .map(move |(encoding, bytes)| (canary.clone(), encoding, bytes))
            })
            .collect();
        Scanner { needles }
    }

    pub(crate) fn scan_bytes(&self, place: &str, bytes: &[u8]) -> Vec<String> {
        self.needles
            .iter()
            .filter(|(_, _, needle)| contains(bytes, needle))
            .map(|(canary, encoding, _)| format!("{place}: {canary} as {encoding}"))
            .collect()
    }

    /// Every hit in the files under `folder` (but `excluded`) and in the named outputs.
    pub(crate) fn scan_run(&self, folder: &Path, excluded: &[&str], outputs: &[(String, Output)]) -> Vec<String> {
        let mut hits = self.scan_folder(folder, excluded);
        for (name, output) in outputs {
            hits.extend(self.scan_output(name, output));
        }
        hits
    }

    pub(crate) fn scan_output(&self, name: &str, output: &Output) -> Vec<String> {
        let mut hits = self.scan_bytes(&format!("{name} stdout"), &output.stdout);
        hits.extend(self.scan_bytes(&format!("{name} stderr"), &output.stderr));
        hits
    }

    /// Every file under `folder`, recursively, except `excluded` (relative paths).
    pub(crate) fn scan_folder(&self, folder: &Path, excluded: &[&str]) -> Vec<String> {
        let mut hits = Vec::new();
        for file in files_under(folder) {
            let relative = file.strip_prefix(folder).expect("under the folder");
            if excluded.iter().any(|name| relative == Path::new(name)) {
                continue;
            }
            let bytes = std::fs::read(&file).expect("read a scanned file");
            hits.extend(self.scan_bytes(&relative.display().to_string(), &bytes));
        }
        hits
    }
}

fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read a folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

const CONFIG: &str = r#"
variable "from_file" {
  type      = string
  sensitive = true
}

variable "from_env" {
  type      = string
  sensitive = true
}

resource "local_key" "main" {
  description = "protects the canaries"
}

resource "local_secret" "by_env" {
  name  = "by-env"
  value = env("KF_CANARY_ENV")
  key   = local_key.main.id
}

resource "local_secret" "by_file" {
  name  = "by-file"
  value = file("secret.txt")
  key   = local_key.main.id
}

resource "local_secret" "by_var_file" {
  name  = "by-var-file"
  value = var.from_file
  key   = local_key.main.id
}

resource "local_secret" "by_env_var" {
  name  = "by-env-var"
  value = var.from_env
  key   = local_key.main.id
}

output "key_id" {
  value = local_key.main.id
}
"#;

const FAILING: &str = r#"
resource "local_secret" "rejected" {
  name                    = "rejected"
  value                   = generate({ length = 16 })
  key                     = local_key.main.id
  recovery_window_in_days = 3
}
"#;

#[test]
fn no_secret_value_leaks_into_files_plans_or_output() {
    let [by_env, by_file, by_var_file, by_env_var, literal] = std::array::from_fn(|_| canary());
    let canaries = [&by_env, &by_file, &by_var_file, &by_env_var, &literal].map(String::clone);
    let scanner = Scanner::new(&canaries);

    let workspace = Workspace::initialized(CONFIG);
    workspace.write("secret.txt", &by_file);
    workspace.write("secrets.tfvars", &format!("from_file = \"{by_var_file}\"\n"));
    let run = |arguments: &[&str]| -> Output {
        workspace
            .command(arguments)
            .env("RUST_LOG", "trace")
            .env("KF_CANARY_ENV", &by_env)
            .env("KEYFORM_VAR_from_env", &by_env_var)
            .output()
            .expect("run keyform")
    };
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let steps: [(&str, &[&str]); 13] = [
        ("validate", &["validate", "--var-file", "secrets.tfvars"]),
        (
            "plan json",
            &["plan", "--var-file", "secrets.tfvars", "--format", "json"],
        ),
        (
            "plan markdown",
            &["plan", "--var-file", "secrets.tfvars", "--format", "markdown"],
        ),
        (
            "plan --out",
            &["plan", "--var-file", "secrets.tfvars", "--out", "plan.kfplan"],
        ),
        ("apply plan", &["apply", "plan.kfplan"]),
        ("show", &["show"]),
        ("show plan", &["show", "plan.kfplan"]),
        ("output", &["output"]),
        ("output --json", &["output", "--json"]),
        ("state list", &["state", "list"]),
        ("state show", &["state", "show", "local_secret.by_env_var"]),
        ("graph", &["graph"]),
        (
            "no-op plan",
            &["plan", "--var-file", "secrets.tfvars", "--detailed-exitcode"],
        ),
    ];
    for (name, arguments) in steps {
        let output = run(arguments);
        assert_exit(&output, 0);
        outputs.push((name.to_string(), output));
    }

    // (a) Each value was stored and reads back exactly.
    for (address, expected) in [
        ("local_secret.by_env", &by_env),
        ("local_secret.by_file", &by_file),
        ("local_secret.by_var_file", &by_var_file),
        ("local_secret.by_env_var", &by_env_var),
    ] {
        let value = run(&["secret", "get", address]);
        assert_exit(&value, 0);
        assert_eq!(stdout(&value).trim_end_matches('\n'), expected.as_str(), "{address}");
    }

    // A failing apply, after the others exist.
    workspace.write("main.hcl", &format!("{CONFIG}{FAILING}"));
    let failed = run(&["apply", "--auto-approve", "--var-file", "secrets.tfvars"]);
    assert_exit(&failed, 1);
    assert!(stderr(&failed).contains("KF4001"), "{}", stderr(&failed));
    outputs.push(("failing apply".to_string(), failed));
    let after = run(&["plan", "--var-file", "secrets.tfvars"]);
    assert_exit(&after, 0);
    outputs.push(("plan after failure".to_string(), after));

    // A diagnostic on a line holding a literal secret, in its own workspace.
    let literal_workspace = Workspace::initialized(&format!(
        "resource \"local_key\" \"main\" {{\n  description = \"k\"\n}}\n\nresource \"local_secret\" \"literal\" {{\n  name  = \"literal\"\n  value = \"{literal}\"\n  key   = local_key.main.id\n}}\n"
    ));
    for arguments in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let output = literal_workspace
            .command(arguments)
            .env("RUST_LOG", "trace")
            .output()
            .expect("run keyform");
        assert_exit(&output, 1);
        assert!(stderr(&output).contains("KF1004"), "{}", stderr(&output));
        outputs.push((format!("literal {}", arguments.join(" ")), output));
    }

    // (b) No canary anywhere.
    let mut hits = scanner.scan_run(workspace.path(), &PLANTED, &outputs);
    hits.extend(scanner.scan_folder(literal_workspace.path(), &["main.hcl"]));
    assert!(
        workspace.path().join("plan.kfplan").is_file(),
        "the saved plan is scanned"
    );
    assert!(hits.is_empty(), "secret values leaked:\n{}", hits.join("\n"));

    // (c) The scan finds what is there: plant encodings in scanned files.
    let controls = [
        ("control-plain.txt", format!("before {by_env} after")),
        ("control-base64.txt", URL_SAFE_NO_PAD.encode(format!("x{by_var_file}"))),
        ("control-hex.txt", format!("0x{}", hex::encode_upper(&by_env_var))),
        (
            ".keyform/control-base64-std.txt",
            STANDARD.encode(format!("xy{by_file}")),
        ),
    ];
    for (name, text) in &controls {
        workspace.write(name, text);
    }
    let hits = scanner.scan_folder(workspace.path(), &PLANTED);
    for (name, _) in &controls {
        assert!(
            hits.iter().any(|hit| hit.starts_with(&format!("{name}:"))),
            "the scan missed the control in {name}: {hits:?}"
        );
    }
    let planted = scanner.scan_folder(workspace.path(), &[]);
    for name in PLANTED {
        assert!(
            planted.iter().any(|hit| hit.starts_with(&format!("{name}:"))),
            "the scan missed {name}: {planted:?}"
        );
    }
}

#[test]
fn an_invalid_value_for_a_sensitive_variable_is_not_echoed() {
    let [by_env, by_var, by_file] = std::array::from_fn(|_| canary());
    let scanner = Scanner::new(&[by_env.clone(), by_var.clone(), by_file.clone()]);
    let workspace = Workspace::initialized(
        "variable \"count_of\" {\n  type      = number\n  sensitive = true\n}\n\noutput \"o\" {\n  value     = var.count_of\n  sensitive = true\n}\n",
    );
    // Not a number: HCL reads each as a reference to an unknown name.
    workspace.write("bad.tfvars", &format!("count_of = {by_file}\n"));
    let mut hits = Vec::new();
    for (name, arguments, environment) in [
        ("env", vec!["plan"], Some(by_env.as_str())),
        ("--var", vec!["plan", "--var", &format!("count_of={by_var}")], None),
        ("--var-file", vec!["plan", "--var-file", "bad.tfvars"], None),
    ] {
        let mut command = workspace.command(&arguments);
        command.env("RUST_LOG", "trace");
        if let Some(value) = environment {
            command.env("KEYFORM_VAR_count_of", value);
        }
        let output = command.output().expect("run keyform");
        assert_exit(&output, 1);
        assert!(stderr(&output).contains("count_of"), "{name}: {}", stderr(&output));
        hits.extend(scanner.scan_output(name, &output));
    }
    hits.extend(scanner.scan_folder(workspace.path(), &["bad.tfvars"]));
    assert!(hits.is_empty(), "secret values leaked:\n{}", hits.join("\n"));
}
