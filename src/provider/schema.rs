//! What a provider declares about its resource types: attributes, their
//! types, which are sensitive, which force replacement, nested blocks.

/// An attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Number,
    Bool,
    /// Seconds; written as a number or a duration string (`"90d"`, `"PT1H"`).
    Duration,
    ListOfStrings,
    MapOfStrings,
    /// Secret material from a value source.
    Secret,
    /// A JSON document written as a string (a key policy); compared after [`normalize_json`].
    Json,
}

/// The canonical form of a JSON document: keys sorted, no insignificant white space.
/// The core and the drivers both compare JSON attributes in this form.
pub fn normalize_json(text: &str) -> Result<String, serde_json::Error> {
    fn sorted(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(entries) => {
                let mut pairs: Vec<(String, serde_json::Value)> =
                    entries.into_iter().map(|(key, inner)| (key, sorted(inner))).collect();
                pairs.sort_by(|left, right| left.0.cmp(&right.0));
                serde_json::Value::Object(pairs.into_iter().collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    let value: serde_json::Value = serde_json::from_str(text)?;
    serde_json::to_string(&sorted(value))
}

/// One attribute of a resource or block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeSchema {
    pub name: &'static str,
    pub attribute_type: AttributeType,
    pub required: bool,
    /// Set by the provider (an id, an ARN); read-only in configuration.
    pub computed: bool,
    /// Changing it replaces the object.
    pub force_new: bool,
    /// A list compared as a set: order and repeats are no change (grant operations).
    pub unordered: bool,
    /// In a `rotation` block: names a function the provider rotates with (`lambda_arn`), so a rotation
    /// needs no new value from keyform, whatever the value's source.
    pub names_rotator: bool,
    pub description: &'static str,
}

impl AttributeSchema {
    pub const fn new(name: &'static str, attribute_type: AttributeType, description: &'static str) -> Self {
        AttributeSchema {
            name,
            attribute_type,
            required: false,
            computed: false,
            force_new: false,
            unordered: false,
            names_rotator: false,
            description,
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub const fn names_rotator(mut self) -> Self {
        self.names_rotator = true;
        self
    }

    pub const fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }

    /// Whether two values of this attribute mean the same (a set's items in any order).
    pub fn same_value(&self, left: &serde_json::Value, right: &serde_json::Value) -> bool {
        if left == right {
            return true;
        }
        let items = |value: &serde_json::Value| {
            value.as_array().map(|items| {
                let mut texts: Vec<String> = items.iter().map(serde_json::Value::to_string).collect();
                texts.sort();
                texts.dedup();
                texts
            })
        };
        self.unordered && items(left).is_some() && items(left) == items(right)
    }

    pub fn is_secret(&self) -> bool {
        self.attribute_type == AttributeType::Secret
    }
}

/// A nested block that may appear at most once (`rotation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSchema {
    pub name: &'static str,
    pub attributes: Vec<AttributeSchema>,
    pub description: &'static str,
}

impl BlockSchema {
    /// Whether the block declares `name` as a secret attribute.
    pub fn is_secret_attribute(&self, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|attribute| attribute.name == name && attribute.is_secret())
    }

    /// Whether going from `before` to `after` (the block as JSON objects) changes an attribute
    /// that forces replacement; a missing attribute and a null one are the same.
    pub fn forces_replacement(&self, before: Option<&serde_json::Value>, after: &serde_json::Value) -> bool {
        let field = |value: Option<&serde_json::Value>, name: &str| {
            value
                .and_then(|block| block.get(name))
                .filter(|inner| !inner.is_null())
                .cloned()
        };
        self.attributes
            .iter()
            .filter(|attribute| attribute.force_new)
            .any(|attribute| field(before, attribute.name) != field(Some(after), attribute.name))
    }
}

/// A resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSchema {
    pub type_name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeSchema>,
    pub blocks: Vec<BlockSchema>,
    /// Deleting it is recoverable for this many days by default (None: deletion is final).
    pub recoverable_deletion: bool,
}

impl ResourceSchema {
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|attribute| attribute.name == name)
    }

    pub fn block(&self, name: &str) -> Option<&BlockSchema> {
        self.blocks.iter().find(|block| block.name == name)
    }

    /// Names of the secret attributes.
    pub fn secret_attributes(&self) -> impl Iterator<Item = &AttributeSchema> {
        self.attributes.iter().filter(|attribute| attribute.is_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::{AttributeSchema, AttributeType, BlockSchema, normalize_json};

    #[test]
    fn an_unordered_list_compares_as_a_set() {
        let operations = AttributeSchema::new("operations", AttributeType::ListOfStrings, "").unordered();
        let configured = serde_json::json!(["Encrypt", "Decrypt", "Encrypt"]);
        assert!(operations.same_value(&serde_json::json!(["Decrypt", "Encrypt"]), &configured));
        assert!(!operations.same_value(&serde_json::json!(["Decrypt"]), &configured));
        let ordered = AttributeSchema::new("list", AttributeType::ListOfStrings, "");
        assert!(!ordered.same_value(&serde_json::json!(["b", "a"]), &serde_json::json!(["a", "b"])));
    }

    #[test]
    fn a_block_forces_replacement_through_its_attributes() {
        let block = BlockSchema {
            name: "constraints",
            attributes: vec![
                AttributeSchema::new("fixed", AttributeType::MapOfStrings, "").force_new(),
                AttributeSchema::new("free", AttributeType::String, ""),
            ],
            description: "",
        };
        let before = serde_json::json!({ "fixed": { "team": "a" }, "free": "x" });
        assert!(!block.forces_replacement(
            Some(&before),
            &serde_json::json!({ "fixed": { "team": "a" }, "free": "y" })
        ));
        assert!(block.forces_replacement(Some(&before), &serde_json::json!({ "fixed": { "team": "b" } })));
        assert!(block.forces_replacement(None, &serde_json::json!({ "fixed": {} })));
        assert!(!block.forces_replacement(None, &serde_json::json!({ "free": "x", "fixed": null })));
    }

    #[test]
    fn json_compares_after_normalisation() {
        let written =
            "{ \"Version\": \"2012-10-17\",\n  \"Statement\": [ { \"Effect\": \"Allow\", \"Action\": \"kms:*\" } ] }";
        let returned = "{\"Statement\":[{\"Action\":\"kms:*\",\"Effect\":\"Allow\"}],\"Version\":\"2012-10-17\"}";
        assert_eq!(
            normalize_json(written).expect("valid"),
            normalize_json(returned).expect("valid")
        );
        assert!(normalize_json("{ not json").is_err());
    }
}
