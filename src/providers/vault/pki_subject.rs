//! Reads the subject of a PEM certificate (common name, organization, ...),
//! so a PKI root read back from Vault, or imported, reports the subject
//! arguments it was generated with. Only the DER needed to reach the subject
//! is walked; anything unexpected reads as no subject.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;

/// Subject attribute OIDs (the bytes after the `2.5.4` arc) and the argument each fills.
const NAMES: &[(u8, &str)] = &[
    (3, "common_name"),
    (10, "organization"),
    (11, "ou"),
    (6, "country"),
    (7, "locality"),
    (8, "province"),
];

/// One DER element: (tag, contents, the rest after it).
fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
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
    if rest.len() < length {
        return None;
    }
    Some((tag, &rest[..length], &rest[length..]))
}

/// The elements inside a constructed element's contents.
fn children(mut contents: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut found = Vec::new();
    while !contents.is_empty() {
        let (tag, inner, rest) = element(contents)?;
        found.push((tag, inner));
        contents = rest;
    }
    Some(found)
}

/// The subject of a PEM certificate: argument name → value (several values of one name joined by `,`).
pub fn subject_of(pem: &str) -> BTreeMap<&'static str, String> {
    subject(pem).unwrap_or_default()
}

fn subject(pem: &str) -> Option<BTreeMap<&'static str, String>> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = STANDARD.decode(body).ok()?;
    let (_, certificate, _) = element(&der)?;
    let (_, to_be_signed, _) = element(certificate)?;
    let fields = children(to_be_signed)?;
    // [0] version is optional; then serial, signature, issuer, validity, subject.
    let skip = usize::from(fields.first()?.0 == 0xa0);
    let (tag, subject) = *fields.get(skip + 4)?;
    if tag != 0x30 {
        return None;
    }
    let mut found: BTreeMap<&'static str, String> = BTreeMap::new();
    for (_, set) in children(subject)? {
        for (_, pair) in children(set)? {
            let parts = children(pair)?;
            let [(0x06, oid), (_, value)] = parts.as_slice() else {
                continue;
            };
            let [0x55, 0x04, number] = oid else {
                continue;
            };
            let Some((_, name)) = NAMES.iter().find(|(wanted, _)| wanted == number) else {
                continue;
            };
            let text = String::from_utf8_lossy(value).into_owned();
            found
                .entry(name)
                .and_modify(|joined| {
                    joined.push(',');
                    joined.push_str(&text);
                })
                .or_insert(text);
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::subject_of;

    /// A root OpenBao generated with common_name example.com and organization Org.
    const ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBxjCCAWugAwIBAgIUW/6O+NiwjURRuI2cWbEYlQES+wwwCgYIKoZIzj0EAwIw
JDEMMAoGA1UEChMDT3JnMRQwEgYDVQQDEwtleGFtcGxlLmNvbTAeFw0yNjExMjYw
MzQ5MDBaFw0yNjEyMjgwMzQ5MzBaMCQxDDAKBgNVBAoTA09yZzEUMBIGA1UEAxML
ZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASmcnvxGY9XXvK/
RMqOP68zi7ologUFvqMH9QjKbQjMveYzWyInQQFGmQa4FOx3Ka28txlRqXFAj0ce
wn9bOMDFo3sweTAOBgNVHQ8BAf8EBAMCAQYwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQUZYCXmPKSo2YzXGsnJQNF6e32zrYwHwYDVR0jBBgwFoAUZYCXmPKSo2Yz
XGsnJQNF6e32zrYwFgYDVR0RBA8wDYILZXhhbXBsZS5jb20wCgYIKoZIzj0EAwID
SQAwRgIhAOueQrhOc/23uonFH7mYKUBsA/Q6ezGZbGWnBasRAI+TAiEAmxHDXmzO
RPAA3s1XhN0h7b2am4mntALtq02X9Ygi/ag=
-----END CERTIFICATE-----";

    #[test]
    fn the_subject_is_read_from_the_certificate() {
        let subject = subject_of(ROOT);
        assert_eq!(subject.get("common_name").map(String::as_str), Some("example.com"));
        assert_eq!(subject.get("organization").map(String::as_str), Some("Org"));
        assert!(!subject.contains_key("ou"));
    }

    #[test]
    fn anything_else_reads_as_no_subject() {
        assert!(subject_of("not a certificate").is_empty());
        assert!(subject_of("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").is_empty());
    }
}
