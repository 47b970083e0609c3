//! Parsing addresses typed by users (`--target`, `state mv`, `moved`, `import`).

use super::{InstanceAddress, InstanceKey, ModulePath, ModuleStep, ResourceAddress, ResourceMode};

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a resource address: {reason}")]
pub struct AddressError {
    pub text: String,
    pub reason: String,
}

/// Parses `[module.NAME[KEY].]...[data.]TYPE.NAME[KEY]`.
pub fn parse_instance_address(text: &str) -> Result<InstanceAddress, AddressError> {
    let fail = |reason: &str| AddressError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let mut cursor = Cursor { text, position: 0 };
    let mut steps = Vec::new();
    let mut mode = ResourceMode::Managed;
    loop {
        let word = cursor.identifier().ok_or_else(|| fail("expected a name"))?;
        if word == "module" && cursor.peek() == Some('.') {
            cursor.expect('.').map_err(|reason| fail(&reason))?;
            let name = cursor.identifier().ok_or_else(|| fail("expected a module name"))?;
            let key = cursor.key().map_err(|reason| fail(&reason))?;
            steps.push(ModuleStep {
                name: name.to_string(),
                key,
            });
            cursor
                .expect('.')
                .map_err(|_| fail("a module path must end in a resource"))?;
            continue;
        }
        let resource_type = if word == "data" && mode == ResourceMode::Managed && cursor.peek() == Some('.') {
            mode = ResourceMode::Data;
            cursor.expect('.').map_err(|reason| fail(&reason))?;
            cursor.identifier().ok_or_else(|| fail("expected a data source type"))?
        } else {
            word
        };
        cursor.expect('.').map_err(|_| fail("expected TYPE.NAME"))?;
        let name = cursor.identifier().ok_or_else(|| fail("expected a resource name"))?;
        let key = cursor.key().map_err(|reason| fail(&reason))?;
        if cursor.position != text.len() {
            return Err(fail("unexpected text after the address"));
        }
        let resource = ResourceAddress {
            module: ModulePath(steps),
            mode,
            resource_type: resource_type.to_string(),
            name: name.to_string(),
        };
        return Ok(resource.instance(key));
    }
}

struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let length = rest
            .char_indices()
            .find(|(index, character)| {
                !(character.is_alphanumeric() || *character == '_' || (*index > 0 && *character == '-'))
            })
            .map_or(rest.len(), |(index, _)| index);
        if length == 0 || rest.starts_with(|character: char| character.is_ascii_digit()) {
            return None;
        }
        self.position += length;
        Some(&rest[..length])
    }

    fn expect(&mut self, wanted: char) -> Result<(), String> {
        if self.peek() == Some(wanted) {
            self.position += wanted.len_utf8();
            Ok(())
        } else {
            Err(format!("expected `{wanted}`"))
        }
    }

    fn key(&mut self) -> Result<Option<InstanceKey>, String> {
        if self.peek() != Some('[') {
            return Ok(None);
        }
        let rest = self.rest();
        let close = rest.find(']').ok_or("an index needs a closing `]`")?;
        let inner = &rest[1..close];
        let key = if inner.starts_with('"') {
            let name: String = serde_json::from_str(inner).map_err(|_| "a key must be a quoted string or a number")?;
            InstanceKey::Name(name)
        } else {
            InstanceKey::Index(inner.parse().map_err(|_| "a key must be a quoted string or a number")?)
        };
        self.position += close + 1;
        Ok(Some(key))
    }
}
