//! keyform's integration tests: one binary that runs the built `keyform`
//! against fixture configurations and snapshots its output.

mod quickstart;
mod support;
