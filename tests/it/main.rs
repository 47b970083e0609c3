//! keyform's integration tests: one binary that runs the built `keyform`
//! against fixture configurations and snapshots its output.

mod aws;
mod aws_access;
mod aws_assume_role;
mod aws_canary;
mod aws_crash;
mod aws_data;
mod aws_kms;
mod aws_secrets;
mod aws_support;
mod canary;
mod changes;
mod commands;
mod concurrency;
mod crash;
mod diagnostics;
mod lock;
mod quickstart;
mod services;
mod support;
mod vault;
mod vault_approle;
mod vault_support;
