//! [`FingerprintKey`]: keyed fingerprints (HMAC-SHA256) of secret values, so a
//! state file can tell whether a value changed without storing the value.

use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::key::{KEY_LENGTH, SecretKey};

type HmacSha256 = Hmac<Sha256>;

/// The block size of SHA-256 in bytes, which is HMAC-SHA256's key size.
const BLOCK_LENGTH: usize = 64;

/// The prefix of every fingerprint, naming its algorithm.
const PREFIX: &str = "hmac-sha256:";

/// A key for fingerprinting secret values. Its Debug prints `FingerprintKey((sensitive))`.
#[derive(Clone, Debug)]
pub struct FingerprintKey(SecretKey);

impl FingerprintKey {
    pub fn new(key: SecretKey) -> Self {
        FingerprintKey(key)
    }

    /// `"hmac-sha256:"` followed by the lowercase hex HMAC-SHA256, under this key,
    /// of `context` (its length as 8 bytes big-endian, then its bytes) and then
    /// `value`. The context, such as `"local_secret.value"`, keeps equal values of
    /// different attributes from having equal fingerprints.
    pub fn fingerprint(&self, context: &str, value: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context.as_bytes());
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        format!("{PREFIX}{}", hex::encode(digest))
    }

    /// An HMAC-SHA256 keyed by this key.
    ///
    /// HMAC pads a key shorter than the hash's block with zeros (RFC 2104, section 2),
    /// so keying it with the zero-padded block is the HMAC of the 32-byte key; done this
    /// way the construction cannot fail, where `new_from_slice` returns a `Result`.
    fn mac(&self) -> HmacSha256 {
        let mut block = Zeroizing::new([0u8; BLOCK_LENGTH]);
        block[..KEY_LENGTH].copy_from_slice(self.0.expose());
        <HmacSha256 as KeyInit>::new(GenericArray::from_slice(block.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> FingerprintKey {
        FingerprintKey::new(SecretKey::from_bytes(&[byte; KEY_LENGTH]).unwrap())
    }

    #[test]
    fn is_deterministic_and_well_formed() {
        let first = key(1).fingerprint("local_secret.value", b"hunter2");
        let second = key(1).fingerprint("local_secret.value", b"hunter2");
        assert_eq!(first, second);
        let digits = first.strip_prefix("hmac-sha256:").unwrap();
        assert_eq!(digits.len(), 64);
        assert!(
            digits
                .chars()
                .all(|character| character.is_ascii_hexdigit() && !character.is_ascii_uppercase())
        );
    }

    #[test]
    fn depends_on_the_key() {
        assert_ne!(
            key(1).fingerprint("local_secret.value", b"hunter2"),
            key(2).fingerprint("local_secret.value", b"hunter2")
        );
    }

    #[test]
    fn depends_on_the_context() {
        let key = key(1);
        assert_ne!(
            key.fingerprint("local_secret.value", b"hunter2"),
            key.fingerprint("local_secret.other", b"hunter2")
        );
        // The length prefix keeps the boundary between context and value.
        assert_ne!(key.fingerprint("ab", b"c"), key.fingerprint("a", b"bc"));
    }

    #[test]
    fn matches_hmac_keyed_with_the_plain_key() {
        let secret = SecretKey::from_bytes(&[9; KEY_LENGTH]).unwrap();
        let mut expected = <HmacSha256 as Mac>::new_from_slice(secret.expose()).unwrap();
        expected.update(&5u64.to_be_bytes());
        expected.update(b"label");
        expected.update(b"value");
        let expected = format!("hmac-sha256:{}", hex::encode(expected.finalize().into_bytes()));
        assert_eq!(FingerprintKey::new(secret).fingerprint("label", b"value"), expected);
    }

    #[test]
    fn matches_a_known_answer() {
        // Computed independently: HMAC-SHA256(key = 32 bytes of 0x01,
        // be64(18) || "local_secret.value" || "hunter2").
        assert_eq!(
            key(1).fingerprint("local_secret.value", b"hunter2"),
            "hmac-sha256:e67dfa8e6b1a1d783f176e16d4e39294370a5a974573942b1020504e38efa7fd"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", key(1)), "FingerprintKey((sensitive))");
    }
}
