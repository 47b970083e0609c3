//! [`SensitiveString`]: a string holding secret material, wiped from memory when
//! dropped and never shown by Debug or Display.

use std::fmt;

use zeroize::Zeroize;

/// A string holding secret material.
///
/// Its Debug and Display both print `(sensitive)`, and its memory is overwritten
/// with zeros when it is dropped. Read the content only through [`expose`](Self::expose).
#[derive(Clone, PartialEq, Eq)]
pub struct SensitiveString(String);

impl SensitiveString {
    /// Wraps `value`; the string is moved in, not copied.
    pub fn new(value: impl Into<String>) -> Self {
        SensitiveString(value.into())
    }

    /// The secret content. Keep what you do with it out of logs and errors.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret content as bytes.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The length of the content in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the content is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SensitiveString {
    fn from(value: String) -> Self {
        SensitiveString(value)
    }
}

impl From<&str> for SensitiveString {
    fn from(value: &str) -> Self {
        SensitiveString(value.to_string())
    }
}

impl Drop for SensitiveString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SensitiveString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(sensitive)")
    }
}

impl fmt::Display for SensitiveString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(sensitive)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_content() {
        let secret = SensitiveString::new("hunter2");
        assert_eq!(format!("{secret:?}"), "(sensitive)");
        assert_eq!(format!("{secret}"), "(sensitive)");
        assert_eq!(format!("{secret:#?}"), "(sensitive)");
        let wrapped = Some(vec![secret.clone()]);
        assert!(!format!("{wrapped:?}").contains("hunter2"));
    }

    #[test]
    fn exposes_content_and_compares() {
        let secret = SensitiveString::new(String::from("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(secret.expose_bytes(), b"hunter2");
        assert_eq!(secret.len(), 7);
        assert!(!secret.is_empty());
        assert_eq!(secret, SensitiveString::from("hunter2"));
        assert_ne!(secret, SensitiveString::from("hunter3"));
        assert!(SensitiveString::new("").is_empty());
    }
}
