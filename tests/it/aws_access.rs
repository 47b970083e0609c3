//! AccessDenied against moto's IAM enforcement: a moto server of the test's
//! own, started with `INITIAL_NO_AUTH_ACTION_COUNT`, so that after the first
//! requests (made with any credentials, to create an IAM user, its access key
//! and its policy) every request is checked against IAM policies.
//!
//! The shared moto of `scripts/services` must not get that setting (the other
//! AWS tests use it with made-up credentials), so this test starts its own on
//! a free port and kills it when done ([`MotoServer`]).
//!
//! What moto 5.2.5 answers: a denied call is refused with HTTP 403 and a
//! Query-protocol XML body (`<Error><Code>AccessDenied</Code><Message>User:
//! arn:aws:iam::123456789012:user/... is not authorized to perform:
//! kms:CreateKey</Message>`), also for KMS, whose protocol is JSON. Real AWS
//! answers `{"__type":"AccessDeniedException","message":...}`. The SDK
//! cannot parse moto's XML, so the driver reads the code and message from
//! the raw body (`client::xml_error`): the diagnostic names the address, the
//! call, the code and the missing permission. The test also checks moto's
//! decision itself through the SDK's raw response.

use crate::aws_support::{REGION, kms_client_as, percent_encoded};
use crate::support::{Workspace, assert_exit, mentions, stderr, stdout};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The IAM calls made before enforcement starts: CreateUser, CreateAccessKey, PutUserPolicy.
const SETUP_REQUESTS: u32 = 3;
const USER: &str = "keyform-denied";

/// A moto server of this test's own; dropping it kills the process.
struct MotoServer {
    child: Child,
    endpoint: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotoServer {
    /// Starts `.tools/venv/bin/moto_server` on a free port with IAM enforced after `no_auth_requests`
    /// requests, and waits until it answers.
    fn start_enforcing_iam(no_auth_requests: u32) -> MotoServer {
        let program = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/moto_server");
        assert!(
            program.is_file(),
            "{} is missing: run `scripts/services install`",
            program.display()
        );
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            listener.local_addr().expect("local address").port()
        };
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", no_auth_requests.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", program.display()));
        let mut server = MotoServer {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().expect("moto_server status") {
                panic!("moto_server on port {port} exited early: {status}");
            }
            // GET /moto-api/ is not a service action, so it does not count towards the setup requests.
            if let Ok((200, _)) = http_request(&server.endpoint, "GET", "/moto-api/", &[], "") {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server on port {port} did not answer within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// One IAM call in the Query protocol. Before enforcement starts moto checks no signature, but
    /// routes a request by the service named in its Authorization header.
    fn iam(&mut self, parameters: &[(&str, &str)]) -> String {
        let mut body = String::from("Version=2010-05-08");
        for (name, value) in parameters {
            body.push_str(&format!("&{name}={}", percent_encoded(value)));
        }
        let authorization =
            "AWS4-HMAC-SHA256 Credential=root/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
        let (status, answer) = http_request(
            &self.endpoint,
            "POST",
            "/",
            &[
                ("Authorization", authorization),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
        .unwrap_or_else(|error| panic!("IAM {parameters:?}: {error}"));
        assert_eq!(status, 200, "IAM {parameters:?} answered {status}: {answer}");
        answer
    }
}

/// One HTTP/1.1 request; returns the status code and the body.
fn http_request(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let authority = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    Ok((status, body))
}

/// The text of the first `<element>` in an XML answer.
fn xml_element(xml: &str, element: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{element}> in {xml}")) + open.len();
    let length = xml[start..]
        .find(&close)
        .unwrap_or_else(|| panic!("no </{element}> in {xml}"));
    xml[start..start + length].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_without_kms_create_key_is_denied_and_keyform_names_the_resource_and_the_call() {
    let mut moto = MotoServer::start_enforcing_iam(SETUP_REQUESTS);

    // The setup requests, with moto's root account: a user, its key, and a policy without kms:CreateKey.
    moto.iam(&[("Action", "CreateUser"), ("UserName", USER)]);
    let created = moto.iam(&[("Action", "CreateAccessKey"), ("UserName", USER)]);
    let access_key = xml_element(&created, "AccessKeyId");
    let secret_key = xml_element(&created, "SecretAccessKey");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            // keyform lists keys and their tags to find one made by an interrupted create first.
            "Action": ["kms:DescribeKey", "kms:ListKeys", "kms:ListResourceTags"],
            "Resource": "*"
        }]
    });
    moto.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", USER),
        ("PolicyName", "describe-only"),
        ("PolicyDocument", &policy.to_string()),
    ]);

    // From now on moto checks every request: the user may list keys, but not create one.
    let client = kms_client_as(&moto.endpoint, &access_key, &secret_key);
    let keys = client.list_keys().send().await.expect("kms:ListKeys is allowed");
    assert!(keys.keys().is_empty(), "a fresh moto holds no key: {keys:?}");
    let denied = client
        .create_key()
        .send()
        .await
        .expect_err("kms:CreateKey is not allowed");
    let raw = denied.raw_response().expect("moto answered");
    let answer = String::from_utf8_lossy(raw.body().bytes().unwrap_or_default()).into_owned();
    assert_eq!(raw.status().as_u16(), 403, "{answer}");
    assert!(
        answer.contains("AccessDenied")
            && answer.contains(&format!("user/{USER} is not authorized to perform: kms:CreateKey")),
        "moto's answer: {answer}"
    );

    let workspace = Workspace::initialized(&format!(
        r#"
provider "aws" {{
  region       = "{REGION}"
  endpoint_url = "{endpoint}"
  access_key   = "{access_key}"
  secret_key   = env("KF_TEST_SECRET_KEY")
}}

resource "aws_kms_key" "denied" {{
  description = "keyform access denied test"
}}
"#,
        endpoint = moto.endpoint
    ));
    let output = workspace
        .command(&["apply", "--auto-approve"])
        .env("KF_TEST_SECRET_KEY", &secret_key)
        .output()
        .expect("run keyform");
    assert_exit(&output, 1);
    let errors = stderr(&output);
    assert!(mentions(&errors, "aws_kms_key.denied: create failed"), "{errors}");
    assert!(mentions(&errors, "kms:CreateKey on *"), "{errors}");
    // moto refuses with an XML body; its code and the help naming the permission still come through.
    assert!(mentions(&errors, "AccessDenied"), "{errors}");
    assert!(
        mentions(&errors, "the caller lacks the permission `kms:CreateKey`"),
        "{errors}"
    );
    assert!(!stdout(&output).contains(&secret_key) && !errors.contains(&secret_key));

    // Nothing was created.
    let keys = client.list_keys().send().await.expect("kms:ListKeys is allowed");
    assert!(keys.keys().is_empty(), "keyform created no key: {keys:?}");
}
