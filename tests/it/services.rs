//! The real services the provider tests talk to: moto server (AWS), OpenBao (the
//! Vault API) and PostgreSQL, all on 127.0.0.1. `scripts/services start` starts
//! them on free ports and writes their addresses to `.tools/services.env`;
//! `scripts/test` does that and sources it before `cargo test`.
//!
//! A test that needs a service reads it through the helpers below, which panic
//! with how to start it when its variable is missing: such a test fails, it
//! never passes silently. The tests at the end prove each service answers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

const HOW_TO_START: &str = "run `scripts/services install && scripts/services start && source .tools/services.env`, \
     or run the whole suite with scripts/test";

fn required(variable: &str, service: &str) -> String {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{service}: {variable} is not set; {HOW_TO_START}"),
    }
}

/// Endpoint of the moto server the test command started; panics with how to start it when missing.
pub fn aws_endpoint() -> String {
    required("KEYFORM_TEST_AWS_ENDPOINT", "the AWS tests need moto server")
}

/// Address of the OpenBao (Vault API) dev server; panics with how to start it when missing.
pub fn vault_address() -> String {
    required("KEYFORM_TEST_VAULT_ADDR", "the Vault tests need OpenBao")
}

/// Root token of the OpenBao dev server; panics with how to start it when missing.
pub fn vault_token() -> String {
    required("KEYFORM_TEST_VAULT_TOKEN", "the Vault tests need OpenBao")
}

/// The PostgreSQL superuser login (scram-sha-256 over TCP on 127.0.0.1).
pub struct Postgres {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// The PostgreSQL server the test command started; panics with how to start it when missing.
pub fn postgres() -> Postgres {
    const NEED: &str = "the PostgreSQL tests need PostgreSQL";
    let port = required("KEYFORM_TEST_POSTGRES_PORT", NEED);
    Postgres {
        host: required("KEYFORM_TEST_POSTGRES_HOST", NEED),
        port: port
            .parse()
            .unwrap_or_else(|_| panic!("KEYFORM_TEST_POSTGRES_PORT is not a port: {port:?}")),
        user: required("KEYFORM_TEST_POSTGRES_USER", NEED),
        password: required("KEYFORM_TEST_POSTGRES_PASSWORD", NEED),
    }
}

/// One HTTP/1.1 request to an `http://host:port` base; returns the status code and the body.
fn http(method: &str, base: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let authority = base
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{base} is not an http:// address"))
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).unwrap_or_else(|error| panic!("connect to {authority}: {error}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("write timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read the response");
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response from {base}{path}: {response:?}"));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    (status, body)
}

/// Runs `psql` against the test server as `server.user` with a password; returns (success, stdout, stderr).
pub fn psql(server: &Postgres, password: &str, sql: &str) -> (bool, String, String) {
    let output = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-w",
            "-h",
            &server.host,
            "-p",
            &server.port.to_string(),
        ])
        .args(["-U", &server.user, "-d", "postgres", "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSFILE")
        .env_remove("PGSERVICE")
        .output()
        .expect("run psql (Debian package postgresql-client)");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn moto_server_answers() {
    // A read-only request: the AWS tests use the same server at the same time, so nothing here may reset it.
    let endpoint = aws_endpoint();
    let (status, body) = http("GET", &endpoint, "/moto-api/", &[]);
    assert_eq!(status, 200, "GET {endpoint}/moto-api/: {body}");
}

#[test]
fn openbao_is_unsealed_and_healthy() {
    let address = vault_address();
    let token = vault_token();
    let (status, body) = http("GET", &address, "/v1/sys/health", &[("X-Vault-Token", &token)]);
    assert_eq!(status, 200, "GET {address}/v1/sys/health: {body}");
    assert!(body.replace(' ', "").contains("\"sealed\":false"), "{body}");
}

#[test]
fn postgres_accepts_the_admin_password_and_refuses_a_wrong_one() {
    let server = postgres();
    let (ok, stdout, stderr) = psql(&server, &server.password, "select 1");
    assert!(ok && stdout == "1", "the admin login must work: {stdout} {stderr}");

    let (ok, stdout, _) = psql(
        &server,
        &server.password,
        "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = current_user",
    );
    assert!(
        ok && stdout == "t",
        "the admin password is stored as a scram-sha-256 verifier: {stdout}"
    );

    let wrong = format!("{}-wrong", server.password);
    let (ok, stdout, stderr) = psql(&server, &wrong, "select 1");
    assert!(!ok, "a wrong password must be refused: {stdout}");
    assert!(stderr.contains("password authentication failed"), "{stderr}");
}
