//! [`SecretKey`], the 32-byte symmetric key used for sealing and fingerprints,
//! and [`CryptoError`], the errors of this module's cryptography.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, Zeroizing};

use super::sensitive::SensitiveString;

/// The length of a [`SecretKey`] in bytes (256 bits).
pub const KEY_LENGTH: usize = 32;

/// What went wrong in a cryptographic operation. No variant carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error(
        "could not read the operating system's random source ({0}); \
         check that the system's random device is available and try again"
    )]
    Random(getrandom::Error),

    /// Key material of the wrong length.
    #[error(
        "a key must be exactly {expected} bytes, but this one has {actual}; \
         use a key written by `keyform init`",
        expected = KEY_LENGTH
    )]
    KeyLength { actual: usize },

    /// Key text that is not base64.
    #[error(
        "the key is not valid base64; a key is the standard base64 encoding of \
         32 random bytes, as `keyform init` writes it"
    )]
    KeyEncoding,

    /// Encryption failed.
    #[error("encryption failed; the data may be too large to seal in one piece")]
    Encrypt,

    /// Authentication failed on decryption.
    #[error("decryption failed: wrong key or corrupted data")]
    Decrypt,

    /// Sealed data shorter than a nonce and a tag.
    #[error(
        "sealed data is too short ({length} bytes, at least {minimum} needed); \
         it is truncated or was not sealed by keyform"
    )]
    Truncated { length: usize, minimum: usize },

    /// A field of an envelope that is not base64.
    #[error(
        "the envelope's `{field}` is not valid base64; the stored data is corrupted, \
         restore it from a backup"
    )]
    EnvelopeEncoding { field: &'static str },
}

/// A 32-byte symmetric key.
///
/// Its Debug and Display print `(sensitive)`, and its bytes are overwritten with
/// zeros when it is dropped.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LENGTH]);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<SecretKey, CryptoError> {
        let mut key = SecretKey([0; KEY_LENGTH]);
        getrandom::getrandom(&mut key.0).map_err(CryptoError::Random)?;
        Ok(key)
    }

    /// A key from exactly [`KEY_LENGTH`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        let array = <[u8; KEY_LENGTH]>::try_from(bytes).map_err(|_| CryptoError::KeyLength { actual: bytes.len() })?;
        Ok(SecretKey(array))
    }

    /// The key bytes. Keep them out of logs and errors.
    pub fn expose(&self) -> &[u8; KEY_LENGTH] {
        &self.0
    }

    /// The key as standard base64, the form key files and variables hold.
    pub fn to_base64(&self) -> SensitiveString {
        SensitiveString::new(STANDARD.encode(self.0))
    }

    /// A key from standard base64 of exactly [`KEY_LENGTH`] bytes; surrounding
    /// whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<SecretKey, CryptoError> {
        // The decoder's own error names the offending character, which is part of
        // the secret, so it is dropped here.
        let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| CryptoError::KeyEncoding)?);
        SecretKey::from_bytes(&bytes)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(sensitive)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(sensitive)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ() {
        let first = SecretKey::generate().unwrap();
        let second = SecretKey::generate().unwrap();
        assert_ne!(first.expose(), second.expose());
    }

    #[test]
    fn base64_round_trip_ignores_whitespace() {
        let key = SecretKey::generate().unwrap();
        let text = format!("  {}\n", key.to_base64().expose());
        let parsed = SecretKey::from_base64(&text).unwrap();
        assert_eq!(parsed.expose(), key.expose());
    }

    #[test]
    fn wrong_length_is_an_error() {
        let error = SecretKey::from_bytes(&[7; 16]).unwrap_err();
        assert!(matches!(error, CryptoError::KeyLength { actual: 16 }));
        let short = STANDARD.encode([1u8; 31]);
        assert!(matches!(
            SecretKey::from_base64(&short),
            Err(CryptoError::KeyLength { actual: 31 })
        ));
        assert!(SecretKey::from_bytes(&[7; KEY_LENGTH]).is_ok());
    }

    #[test]
    fn invalid_base64_error_does_not_show_the_text() {
        let error = SecretKey::from_base64("not*base64*secretword").unwrap_err();
        assert!(matches!(error, CryptoError::KeyEncoding));
        let message = format!("{error} {error:?}");
        assert!(!message.contains("secretword"));
        assert!(!message.contains('*'));
    }

    #[test]
    fn debug_and_display_never_show_the_key() {
        let key = SecretKey::from_bytes(&[0xab; KEY_LENGTH]).unwrap();
        assert_eq!(format!("{key:?}"), "(sensitive)");
        assert_eq!(format!("{key}"), "(sensitive)");
        assert!(!format!("{:?}", Some(key.clone())).contains("171"));
    }
}
