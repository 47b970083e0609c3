//! Plans: what keyform would change, and why.
//!
//! [`engine::Engine`] walks the graph: it evaluates each node, refreshes
//! what state records through the providers, and diffs desired against
//! live into [`InstanceChange`]s. `render` shows a plan; `saved` writes and
//! reads plan files. **A plan holds fingerprints of secret values, never the
//! values; a sensitive attribute renders as `(sensitive)` and still says
//! whether it changes.**

pub mod checks;
pub mod desired;
pub mod engine;
pub mod provider_blocks;
pub mod render;
pub mod saved;
pub mod types;

pub use types::{Action, AttributeChange, InstanceChange, Plan};
