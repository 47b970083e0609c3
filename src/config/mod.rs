//! Configuration: HCL files with spans -> raw model -> evaluated values.
//!
//! `load` reads a folder of `*.hcl` files (and the module folders it calls)
//! into a [`model::ModuleConfig`] tree that keeps every expression with its
//! file and span; `eval` evaluates expressions over that tree into
//! [`value::Value`]s carrying the sensitive and literal marks; `schema`
//! checks evaluated attributes against what a provider declares. **Loading
//! collects every diagnostic of a run instead of stopping at the first.**

pub mod duration;
pub mod eval;
pub mod format;
pub mod functions;
pub mod load;
pub mod model;
pub mod references;
pub mod value;
pub mod variables;
