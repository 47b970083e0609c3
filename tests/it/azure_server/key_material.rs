//! Generation of real key pairs (aws-lc-rs) for Key Vault keys, of which only the public part is kept and shown:
//! RSA `n`/`e`, EC `crv`/`x`/`y`, base64url without padding, as JSON Web Keys carry them.

use aws_lc_rs::signature::{self, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

/// The public part of a new RSA key of `bits` (2048, 3072 or 4096).
pub fn rsa_public_key(bits: u64) -> Option<Map<String, Value>> {
    let size = match bits {
        2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
        3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
        4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
        _ => return None,
    };
    let pair = signature::RsaKeyPair::generate(size).ok()?;
    let (modulus, exponent) = rsa_public_numbers(pair.public_key().as_ref())?;
    let mut public = Map::new();
    public.insert("n".to_string(), json!(URL_SAFE_NO_PAD.encode(modulus)));
    public.insert("e".to_string(), json!(URL_SAFE_NO_PAD.encode(exponent)));
    Some(public)
}

/// The public part of a new EC key on `curve` (P-256, P-384, P-521 or P-256K).
pub fn ec_public_key(curve: &str) -> Option<Map<String, Value>> {
    let algorithm = match curve {
        "P-256" => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        "P-384" => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        "P-521" => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        "P-256K" => &signature::ECDSA_P256K1_SHA256_FIXED_SIGNING,
        _ => return None,
    };
    let pair = signature::EcdsaKeyPair::generate(algorithm).ok()?;
    let point = pair.public_key().as_ref();
    let coordinates = point.strip_prefix(&[0x04])?;
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    let mut public = Map::new();
    public.insert("crv".to_string(), json!(curve));
    public.insert("x".to_string(), json!(URL_SAFE_NO_PAD.encode(x)));
    public.insert("y".to_string(), json!(URL_SAFE_NO_PAD.encode(y)));
    Some(public)
}

/// `n` and `e` from a DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_numbers(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (sequence, _) = der_element(der, 0x30)?;
    let (modulus, rest) = der_element(sequence, 0x02)?;
    let (exponent, _) = der_element(rest, 0x02)?;
    let strip = |integer: &[u8]| {
        integer
            .iter()
            .skip_while(|byte| **byte == 0)
            .copied()
            .collect::<Vec<u8>>()
    };
    Some((strip(modulus), strip(exponent)))
}

/// The content of the DER element with `tag` at the start of `input`, and what follows it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}
