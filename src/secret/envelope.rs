//! Authenticated encryption with AES-256-GCM: [`seal`] and [`open`] for one key,
//! and envelope encryption ([`seal_envelope`], [`open_envelope`]) where a fresh
//! data key seals the data and a key-encryption key seals the data key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::key::{CryptoError, SecretKey};

/// The length of an AES-GCM nonce in bytes (96 bits).
const NONCE_LENGTH: usize = 12;

/// The length of an AES-GCM authentication tag in bytes.
const TAG_LENGTH: usize = 16;

/// Data sealed under a fresh data key, with that data key sealed under a
/// key-encryption key. Both fields are standard base64 of `nonce || ciphertext || tag`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub wrapped_data_key: String,
    pub ciphertext: String,
}

/// Encrypts and authenticates `plaintext`, binding `associated_data` to it.
/// Returns a fresh random 12-byte nonce followed by the ciphertext with its tag.
pub fn seal(key: &SecretKey, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut nonce = [0u8; NONCE_LENGTH];
    getrandom::getrandom(&mut nonce).map_err(CryptoError::Random)?;
    let payload = Payload {
        msg: plaintext,
        aad: associated_data,
    };
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), payload)
        .map_err(|_| CryptoError::Encrypt)?;
    let mut sealed = Vec::with_capacity(NONCE_LENGTH + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Checks and decrypts what [`seal`] returned. A wrong key, wrong associated data
/// or altered bytes give [`CryptoError::Decrypt`].
pub fn open(key: &SecretKey, sealed: &[u8], associated_data: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let minimum = NONCE_LENGTH + TAG_LENGTH;
    if sealed.len() < minimum {
        return Err(CryptoError::Truncated {
            length: sealed.len(),
            minimum,
        });
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LENGTH);
    let cipher = Aes256Gcm::new(key.expose().into());
    let payload = Payload {
        msg: ciphertext,
        aad: associated_data,
    };
    cipher
        .decrypt(Nonce::from_slice(nonce), payload)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

/// Seals `plaintext` under a fresh random data key, and the data key under
/// `key_encryption_key`, both with `associated_data`.
pub fn seal_envelope(
    key_encryption_key: &SecretKey,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Envelope, CryptoError> {
    let data_key = SecretKey::generate()?;
    let ciphertext = seal(&data_key, plaintext, associated_data)?;
    let wrapped_data_key = seal(key_encryption_key, data_key.expose(), associated_data)?;
    Ok(Envelope {
        wrapped_data_key: STANDARD.encode(wrapped_data_key),
        ciphertext: STANDARD.encode(ciphertext),
    })
}

/// Opens what [`seal_envelope`] made: unwraps the data key with
/// `key_encryption_key`, then decrypts the data with it.
pub fn open_envelope(
    key_encryption_key: &SecretKey,
    envelope: &Envelope,
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let wrapped_data_key = decode(&envelope.wrapped_data_key, "wrapped_data_key")?;
    let ciphertext = decode(&envelope.ciphertext, "ciphertext")?;
    let data_key_bytes = open(key_encryption_key, &wrapped_data_key, associated_data)?;
    let data_key = SecretKey::from_bytes(&data_key_bytes)?;
    open(&data_key, &ciphertext, associated_data)
}

fn decode(text: &str, field: &'static str) -> Result<Vec<u8>, CryptoError> {
    STANDARD
        .decode(text)
        .map_err(|_| CryptoError::EnvelopeEncoding { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &[u8] = b"local_secret.database_password";

    #[test]
    fn seal_and_open_round_trip() {
        let key = SecretKey::generate().unwrap();
        let sealed = seal(&key, b"hunter2", DATA).unwrap();
        assert_eq!(sealed.len(), NONCE_LENGTH + 7 + TAG_LENGTH);
        assert_eq!(open(&key, &sealed, DATA).unwrap().as_slice(), b"hunter2");
        let empty = seal(&key, b"", DATA).unwrap();
        assert!(open(&key, &empty, DATA).unwrap().is_empty());
    }

    #[test]
    fn seal_uses_a_fresh_nonce() {
        let key = SecretKey::generate().unwrap();
        let first = seal(&key, b"hunter2", DATA).unwrap();
        let second = seal(&key, b"hunter2", DATA).unwrap();
        assert_ne!(first[..NONCE_LENGTH], second[..NONCE_LENGTH]);
        assert_ne!(first, second);
    }

    #[test]
    fn open_rejects_wrong_key_data_tampering_and_truncation() {
        let key = SecretKey::generate().unwrap();
        let sealed = seal(&key, b"hunter2", DATA).unwrap();
        let other = SecretKey::generate().unwrap();
        assert!(matches!(open(&other, &sealed, DATA), Err(CryptoError::Decrypt)));
        assert!(matches!(open(&key, &sealed, b"other"), Err(CryptoError::Decrypt)));
        for index in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 0x01;
            assert!(matches!(open(&key, &tampered, DATA), Err(CryptoError::Decrypt)));
        }
        assert!(matches!(
            open(&key, &sealed[..sealed.len() - 1], DATA),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            open(&key, &sealed[..NONCE_LENGTH + TAG_LENGTH - 1], DATA),
            Err(CryptoError::Truncated { .. })
        ));
        assert!(matches!(open(&key, &[], DATA), Err(CryptoError::Truncated { .. })));
        assert_eq!(
            CryptoError::Decrypt.to_string(),
            "decryption failed: wrong key or corrupted data"
        );
    }

    #[test]
    fn envelope_round_trip() {
        let key_encryption_key = SecretKey::generate().unwrap();
        let envelope = seal_envelope(&key_encryption_key, b"hunter2", DATA).unwrap();
        let opened = open_envelope(&key_encryption_key, &envelope, DATA).unwrap();
        assert_eq!(opened.as_slice(), b"hunter2");

        let json = serde_json::to_string(&envelope).unwrap();
        assert!(!json.contains("hunter2"));
        let parsed: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, envelope);
        assert_eq!(
            open_envelope(&key_encryption_key, &parsed, DATA).unwrap().as_slice(),
            b"hunter2"
        );
    }

    #[test]
    fn each_envelope_has_a_fresh_data_key() {
        let key_encryption_key = SecretKey::generate().unwrap();
        let first = seal_envelope(&key_encryption_key, b"hunter2", DATA).unwrap();
        let second = seal_envelope(&key_encryption_key, b"hunter2", DATA).unwrap();
        assert_ne!(first, second);
        assert_ne!(first.wrapped_data_key, second.wrapped_data_key);
        assert_ne!(first.ciphertext, second.ciphertext);
        let first_data_key = open(
            &key_encryption_key,
            &STANDARD.decode(&first.wrapped_data_key).unwrap(),
            DATA,
        )
        .unwrap();
        let second_data_key = open(
            &key_encryption_key,
            &STANDARD.decode(&second.wrapped_data_key).unwrap(),
            DATA,
        )
        .unwrap();
        assert_ne!(first_data_key, second_data_key);
        assert_ne!(first_data_key.as_slice(), key_encryption_key.expose());
    }

    #[test]
    fn envelope_rejects_wrong_key_wrong_data_and_tampering() {
        let key_encryption_key = SecretKey::generate().unwrap();
        let envelope = seal_envelope(&key_encryption_key, b"hunter2", DATA).unwrap();
        let other = SecretKey::generate().unwrap();
        assert!(matches!(
            open_envelope(&other, &envelope, DATA),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            open_envelope(&key_encryption_key, &envelope, b"local_secret.other"),
            Err(CryptoError::Decrypt)
        ));

        let mut ciphertext = STANDARD.decode(&envelope.ciphertext).unwrap();
        let last = ciphertext.len() - 1;
        ciphertext[last] ^= 0x80;
        let tampered = Envelope {
            ciphertext: STANDARD.encode(&ciphertext),
            ..envelope.clone()
        };
        assert!(matches!(
            open_envelope(&key_encryption_key, &tampered, DATA),
            Err(CryptoError::Decrypt)
        ));

        let mut wrapped = STANDARD.decode(&envelope.wrapped_data_key).unwrap();
        wrapped[NONCE_LENGTH] ^= 0x01;
        let tampered = Envelope {
            wrapped_data_key: STANDARD.encode(&wrapped),
            ..envelope.clone()
        };
        assert!(matches!(
            open_envelope(&key_encryption_key, &tampered, DATA),
            Err(CryptoError::Decrypt)
        ));

        let swapped = Envelope {
            wrapped_data_key: envelope.ciphertext.clone(),
            ciphertext: envelope.wrapped_data_key.clone(),
        };
        assert!(open_envelope(&key_encryption_key, &swapped, DATA).is_err());

        let garbled = Envelope {
            ciphertext: "not base64!".to_string(),
            ..envelope
        };
        assert!(matches!(
            open_envelope(&key_encryption_key, &garbled, DATA),
            Err(CryptoError::EnvelopeEncoding { field: "ciphertext" })
        ));
    }
}
