//! Secret material and the cryptography around it: sensitive strings that never
//! print, 32-byte keys, generated passwords, keyed fingerprints of secret values,
//! AES-256-GCM sealing with envelope encryption, and the local master key file.
//!
//! Every primitive comes from the RustCrypto crates; every random byte comes from
//! the operating system. Nothing in this module prints secret material: the Debug
//! and Display of secret types show `(sensitive)`, and no error carries a secret.

mod envelope;
mod fingerprint;
mod generate;
mod key;
mod keyfile;
mod sensitive;

pub use envelope::{Envelope, open, open_envelope, seal, seal_envelope};
pub use fingerprint::FingerprintKey;
pub use generate::{GenerateError, MAX_GENERATED_LENGTH, generate, validate_spec};
pub use key::{CryptoError, KEY_LENGTH, SecretKey};
pub use keyfile::{KeyFileError, KeySource, create_key_file, load_key};
pub use sensitive::SensitiveString;
