//! Helpers: a scratch copy of a fixture, running the binary, output filters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A configuration folder in a temporary directory.
pub struct Workspace {
    pub folder: tempfile::TempDir,
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Workspace {
        Workspace {
            folder: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// A workspace holding a copy of a folder of the repository (for example `examples/quickstart`).
    pub fn copy_of(relative: &str) -> Workspace {
        let workspace = Workspace::new();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        for entry in std::fs::read_dir(&source).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.is_file() && path.extension().is_some_and(|extension| extension == "hcl") {
                std::fs::copy(&path, workspace.path().join(path.file_name().expect("name"))).expect("copy");
            }
        }
        workspace
    }

    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Runs keyform in the workspace.
    pub fn run(&self, arguments: &[&str]) -> Output {
        self.command(arguments).output().expect("run keyform")
    }

    pub fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .current_dir(self.path())
            .args(arguments)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        command
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keyform"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Output with times, ids and paths replaced, for snapshots.
pub fn filtered(text: &str) -> String {
    let time = regex::Regex::new(r"\d+\.\d+s").expect("regex");
    let id = regex::Regex::new(r"[0-9a-f]{32}").expect("regex");
    let text = time.replace_all(text, "[TIME]");
    id.replace_all(&text, "[ID]").into_owned()
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

impl Workspace {
    /// A workspace holding `main.hcl` with `text`, after `keyform init`.
    pub fn initialized(text: &str) -> Workspace {
        let workspace = Workspace::new();
        workspace.write("main.hcl", text);
        let init = workspace.run(&["init"]);
        assert_eq!(code(&init), 0, "init failed: {}", stderr(&init));
        workspace
    }

    /// Writes `text` to `name` in the workspace.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write a workspace file");
    }

    /// The state folder, `.keyform`.
    pub fn state_folder(&self) -> PathBuf {
        self.path().join(".keyform")
    }

    /// The compacted state, `.keyform/state.json`, as JSON.
    pub fn state_json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_folder().join("state.json")).expect("read state.json");
        serde_json::from_str(&text).expect("state.json is JSON")
    }
}

/// Fails with the output when `output` did not exit with `expected`.
#[track_caller]
pub fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        code(output),
        expected,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// `text` without whitespace and the margin miette draws, so that a message
/// wrapped at 100 columns can be searched for a phrase.
pub fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_whitespace() && !matches!(character, '│' | '·'))
        .collect()
}

/// Whether the diagnostic output `text` contains `phrase`, ignoring wrapping.
pub fn mentions(text: &str, phrase: &str) -> bool {
    squeezed(text).contains(&squeezed(phrase))
}
