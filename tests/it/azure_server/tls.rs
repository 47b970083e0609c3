//! The test certificate authority (generated per server with `rcgen`) and the TLS server configuration for the test
//! domains: one certificate with the SANs `*.vault.keyform.test`, `login.keyform.test` and
//! `management.keyform.test`, signed by that CA.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::routing::{LOGIN_HOST, MANAGEMENT_HOST, VAULT_SUFFIX};

/// The CA certificate clients trust, and the server side of TLS.
pub struct TestCertificates {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Generates a fresh CA and server certificate.
pub fn generate() -> TestCertificates {
    let ca_key = KeyPair::generate().expect("generate the test CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("test CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "keyform test CA");
    ca_name.push(DnType::OrganizationName, "keyform tests");
    ca_params.distinguished_name = ca_name;
    let ca_certificate = ca_params.self_signed(&ca_key).expect("self-sign the test CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().expect("generate the test server key");
    let names = vec![
        format!("*.{VAULT_SUFFIX}"),
        LOGIN_HOST.to_string(),
        MANAGEMENT_HOST.to_string(),
    ];
    let mut server_params = CertificateParams::new(names).expect("test server certificate parameters");
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "keyform test Azure server");
    server_params.distinguished_name = server_name;
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    let server_certificate = server_params
        .signed_by(&server_key, &issuer)
        .expect("sign the test server certificate");

    let chain = vec![
        CertificateDer::from(server_certificate.der().to_vec()),
        CertificateDer::from(ca_certificate.der().to_vec()),
    ];
    let private_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .expect("TLS server configuration");
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TestCertificates {
        ca_pem: ca_certificate.pem(),
        server_config: Arc::new(server_config),
    }
}
