//! The drivers, and the one registry that knows them by name.
//!
//! **The core names no provider anywhere but in [`registry`].**

pub mod aws;
pub mod azure;
pub mod local;
pub mod vault;

use crate::provider::Provider;
use std::sync::Arc;

/// Every provider name this build knows.
pub const PROVIDER_NAMES: &[&str] = &["aws", "azurerm", "local", "vault"];

/// A fresh, unconfigured driver for a provider name.
pub fn registry(name: &str) -> Option<Arc<dyn Provider>> {
    match name {
        "aws" => Some(Arc::new(aws::AwsProvider::new())),
        "azurerm" => Some(Arc::new(azure::AzureProvider::new())),
        "local" => Some(Arc::new(local::LocalProvider::new())),
        "vault" => Some(Arc::new(vault::VaultProvider::new())),
        _ => None,
    }
}
