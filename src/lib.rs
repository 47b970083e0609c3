//! keyform: a declarative engine for secrets and key management.
//!
//! Data flows one way: files -> [`config`] -> [`graph`] -> (refresh through
//! [`provider`]s) -> [`plan`] -> [`apply`] -> [`state`]. See ARCHITECTURE.md
//! for the code map and the invariants.

pub mod addr;
pub mod apply;
pub mod cli;
pub mod config;
pub mod diag;
pub mod durable;
pub mod graph;
pub mod plan;
pub mod provider;
pub mod providers;
pub mod secret;
pub mod state;
