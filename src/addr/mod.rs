//! Addresses of modules, resources and resource instances.
//!
//! An address is what users type (`--target`, `state mv`, `moved` blocks,
//! `import`) and what state is keyed by: `module.app.local_secret.db["a"]`.
//! **Display and parse are inverse: `parse(address.to_string()) == address`.**

mod parse;

pub use parse::{AddressError, parse_instance_address};

use std::fmt;

/// The key of one instance of a resource with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Index(u64),
    Name(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(index) => write!(formatter, "[{index}]"),
            InstanceKey::Name(name) => write!(formatter, "[{}]", serde_json::Value::String(name.clone())),
        }
    }
}

/// One step of a module path: `module.NAME`, optionally with a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

/// The path of a module instance; empty for the root module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(pub Vec<ModuleStep>);

impl ModulePath {
    pub fn root() -> Self {
        ModulePath(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path of a child module call.
    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> Self {
        let mut steps = self.0.clone();
        steps.push(ModuleStep {
            name: name.to_string(),
            key,
        });
        ModulePath(steps)
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(".")?;
            }
            write!(formatter, "module.{}", step.name)?;
            if let Some(key) = &step.key {
                write!(formatter, "{key}")?;
            }
        }
        Ok(())
    }
}

/// Whether an address names a managed resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceMode {
    Managed,
    Data,
}

/// A resource block inside a module instance: `module.app.local_secret.db`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddress {
    pub module: ModulePath,
    pub mode: ResourceMode,
    pub resource_type: String,
    pub name: String,
}

impl ResourceAddress {
    pub fn new(module: ModulePath, mode: ResourceMode, resource_type: &str, name: &str) -> Self {
        ResourceAddress {
            module,
            mode,
            resource_type: resource_type.to_string(),
            name: name.to_string(),
        }
    }

    /// The address of one instance of this resource.
    pub fn instance(&self, key: Option<InstanceKey>) -> InstanceAddress {
        InstanceAddress {
            resource: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(formatter, "{}.", self.module)?;
        }
        if self.mode == ResourceMode::Data {
            formatter.write_str("data.")?;
        }
        write!(formatter, "{}.{}", self.resource_type, self.name)
    }
}

/// One instance of a resource: what state records and providers act on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddress {
    pub resource: ResourceAddress,
    pub key: Option<InstanceKey>,
}

impl InstanceAddress {
    /// True when `self` is `other` or one of the instances of the resource `other` names
    /// (`--target local_secret.db` selects `local_secret.db["a"]`).
    pub fn is_selected_by(&self, other: &InstanceAddress) -> bool {
        if other.key.is_some() {
            return self == other;
        }
        self.resource == other.resource
    }
}

impl fmt::Display for InstanceAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.resource)?;
        if let Some(key) = &self.key {
            write!(formatter, "{key}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_parses_back() {
        for text in [
            "local_secret.db",
            "local_secret.db[3]",
            "local_secret.db[\"a b\"]",
            "module.app.local_key.main",
            "module.app[\"x\"].module.inner.data.local_secret.db[0]",
        ] {
            let address = parse_instance_address(text).expect(text);
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_instance_address("local_secret").is_err());
        assert!(parse_instance_address("local_secret.db[").is_err());
        assert!(parse_instance_address("module.x").is_err());
    }
}
