//! The command-line arguments (clap). Every long flag takes two dashes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keyform",
    version,
    about = "Declarative secrets and key management",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArguments,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArguments {
    /// Run as if keyform was started in this folder.
    #[arg(long, global = true, value_name = "FOLDER")]
    pub chdir: Option<PathBuf>,
    /// Print no colour.
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Flags of commands that evaluate the configuration.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArguments {
    /// Set a root variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub variables: Vec<String>,
    /// Read variables from a .tfvars or .tfvars.json file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub variable_files: Vec<PathBuf>,
    /// How many provider calls may be in flight at once (1 to 1024).
    #[arg(long, default_value_t = 16, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub parallelism: usize,
    /// Limit the run to these resource addresses (repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Plan these resource instances for replacement (repeatable).
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Wait this long for the state lock (for example 30s or 2m).
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Instances to rotate whether or not rotation is due (set by `rotate --now`).
    #[arg(skip)]
    pub rotate_now: Vec<String>,
    /// The address and id `keyform import` adopts.
    #[arg(skip)]
    pub import: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanFormat {
    #[default]
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the key files and .gitignore entries a configuration needs.
    Init,
    /// Check the configuration without contacting any provider.
    Validate(RunArguments),
    /// Rewrite configuration files in the canonical format.
    Fmt {
        /// List files that would change and exit 3, changing nothing.
        #[arg(long)]
        check: bool,
        /// Files or folders (default: the current folder).
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change.
    Plan {
        #[command(flatten)]
        run: RunArguments,
        /// Save the plan to this file for `keyform apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 0 when nothing would change, 2 when something would, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan to destroy everything in state.
        #[arg(long)]
        destroy: bool,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Make the changes (of a fresh plan, or of a saved plan file).
    Apply {
        #[command(flatten)]
        run: RunArguments,
        /// A plan saved by `keyform plan --out FILE`.
        plan_file: Option<PathBuf>,
        /// Apply without asking.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Destroy everything in state (recoverably where the provider allows).
    Destroy {
        #[command(flatten)]
        run: RunArguments,
        #[arg(long)]
        auto_approve: bool,
    },
    /// Report drift (for cron): changes made outside keyform, unmanaged objects, overdue rotations.
    /// Exits 0 when clean, 2 when something drifted, 1 on error; changes nothing.
    Drift {
        #[command(flatten)]
        run: RunArguments,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Perform the rotations that are due (for cron), and nothing else.
    Rotate {
        #[command(flatten)]
        run: RunArguments,
        /// Rotate these now even if not due (repeatable).
        #[arg(long = "now", value_name = "ADDRESS")]
        now: Vec<String>,
        /// Rotate without asking.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Adopt an existing object into state.
    Import {
        #[command(flatten)]
        run: RunArguments,
        /// The resource address to import to.
        address: String,
        /// The provider's id of the object.
        id: String,
    },
    /// Show the state, or a saved plan.
    Show {
        /// A plan file to show instead of the state.
        plan_file: Option<PathBuf>,
    },
    /// Show root outputs (sensitive ones as `(sensitive)`).
    Output {
        /// One output's name.
        name: Option<String>,
        /// Print the value as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the dependency graph in Graphviz DOT.
    Graph,
    /// Read and change the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Work with secret values.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state.
    List,
    /// Show one resource's state.
    Show { address: String },
    /// Forget a resource (the object is left alone).
    Rm {
        address: String,
        #[arg(long, default_value = "0s")]
        lock_timeout: String,
    },
    /// Move a resource to another address.
    Mv {
        from: String,
        to: String,
        #[arg(long, default_value = "0s")]
        lock_timeout: String,
    },
    /// Clear a lock left by a run that is gone.
    Unlock { lock_id: String },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Print the current value of a secret (only on this explicit request).
    Get {
        address: String,
        /// The secret attribute (default `value`).
        #[arg(long, default_value = "value")]
        attribute: String,
    },
}
