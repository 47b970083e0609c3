//! In-process checks of the server's own rules and back doors, without TLS or a client SDK: requests go straight to
//! [`super::routing::route`]. This file holds the request helpers and the checks of authentication and of ARM;
//! `checks_objects` checks keys, secrets and their life cycle. What Microsoft's SDKs see over the wire is checked by
//! `azure_faithfulness`.

use serde_json::{Value, json};

use super::AzureTestServer;
use super::http::Request;
use super::routing;

const ARM_VERSION: &str = "2023-07-01";
pub const VAULT_VERSION: &str = "7.5";

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

pub fn send(server: &AzureTestServer, method: &str, url: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
    let parsed = url::Url::parse(url).expect("a test URL");
    let mut headers = hyper::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header value"),
        );
    }
    let request = Request {
        method: method.parse().expect("an HTTP method"),
        host: parsed.host_str().unwrap_or_default().to_string(),
        path: parsed.path().to_string(),
        query: parsed.query_pairs().into_owned().collect(),
        headers,
        body: body.into(),
    };
    let reply = routing::route(&server.shared, &request);
    Answer {
        status: reply.status,
        body: serde_json::from_slice(&reply.body).unwrap_or(Value::Null),
        headers: reply.headers,
    }
}

fn send_json(server: &AzureTestServer, method: &str, url: &str, token: &str, body: Value) -> Answer {
    send(server, method, url, Some(token), body.to_string().into_bytes())
}

pub fn token(server: &AzureTestServer, resource: &str) -> String {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &server.client_id())
        .append_pair("client_secret", &server.client_secret())
        .append_pair("scope", &format!("{resource}/.default"))
        .finish();
    let url = format!("https://login.keyform.test/{}/oauth2/v2.0/token", server.tenant_id());
    let answer = send(server, "POST", &url, None, form.into_bytes());
    assert_eq!(answer.status, 200, "token: {}", answer.body);
    answer.body["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

/// A server with one vault (`purge_protection` as given, 7 days retention) and a data plane token.
pub fn server_with_vault(name: &str, purge_protection: bool) -> (AzureTestServer, String) {
    let server = AzureTestServer::start();
    let arm_token = token(&server, "https://management.keyform.test");
    let mut properties = json!({
        "tenantId": server.tenant_id(),
        "sku": {"family": "A", "name": "premium"},
        "softDeleteRetentionInDays": 7,
    });
    if purge_protection {
        properties["enablePurgeProtection"] = json!(true);
    }
    let created = send_json(
        &server,
        "PUT",
        &vault_url(&server, name),
        &arm_token,
        json!({"location": "westeurope", "properties": properties}),
    );
    assert_eq!(created.status, 201, "create vault: {}", created.body);
    let vault_token = self::token(&server, "https://vault.keyform.test");
    (server, vault_token)
}

/// The ARM URL of vault `name` in resource group `rg`.
fn vault_url(server: &AzureTestServer, name: &str) -> String {
    format!(
        "https://management.keyform.test/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{name}\
         ?api-version={ARM_VERSION}",
        server.subscription_id()
    )
}

/// One vault of a test's server with a data plane token, for requests by method and path.
pub struct VaultClient<'a> {
    server: &'a AzureTestServer,
    token: &'a str,
    name: &'a str,
}

impl<'a> VaultClient<'a> {
    pub fn new(server: &'a AzureTestServer, token: &'a str, name: &'a str) -> VaultClient<'a> {
        VaultClient { server, token, name }
    }

    /// A request without a body.
    pub fn call(&self, method: &str, path: &str) -> Answer {
        send(
            self.server,
            method,
            &secret_url(self.name, path),
            Some(self.token),
            Vec::new(),
        )
    }

    /// A request with a JSON body.
    pub fn call_json(&self, method: &str, path: &str, body: Value) -> Answer {
        send_json(self.server, method, &secret_url(self.name, path), self.token, body)
    }
}

/// A data plane URL of vault `vault` (keys or secrets alike).
pub fn secret_url(vault: &str, path: &str) -> String {
    format!("https://{vault}.vault.keyform.test/{path}?api-version={VAULT_VERSION}")
}

#[test]
fn a_request_without_a_token_gets_the_key_vault_challenge() {
    let (server, _) = server_with_vault("kfchallenge", false);
    let answer = send(&server, "GET", &secret_url("kfchallenge", "secrets"), None, Vec::new());
    assert_eq!(answer.status, 401);
    let challenge = answer
        .headers
        .iter()
        .find(|(name, _)| name == "www-authenticate")
        .map(|(_, value)| value.clone());
    assert_eq!(
        challenge.as_deref(),
        Some(
            format!(
                "Bearer authorization=\"https://login.keyform.test/{}\", resource=\"https://vault.keyform.test\"",
                server.tenant_id()
            )
            .as_str()
        )
    );
    assert_eq!(answer.body["error"]["code"], "Unauthorized");
}

#[test]
fn the_token_endpoint_refuses_wrong_credentials_and_scopes() {
    let server = AzureTestServer::start();
    let url = format!("https://login.keyform.test/{}/oauth2/v2.0/token", server.tenant_id());
    let ask = |secret: &str, scope: &str| {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &server.client_id())
            .append_pair("client_secret", secret)
            .append_pair("scope", scope)
            .finish();
        let answer = send(&server, "POST", &url, None, form.into_bytes());
        (
            answer.status,
            answer.body["error"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        ask("wrong", "https://vault.keyform.test/.default"),
        (401, "invalid_client".to_string())
    );
    assert_eq!(
        ask(&server.client_secret(), "https://vault.keyform.test"),
        (400, "invalid_scope".to_string())
    );
    assert_eq!(
        ask(&server.client_secret(), "https://graph.keyform.test/.default"),
        (400, "invalid_resource".to_string())
    );
    assert_eq!(
        ask(&server.client_secret(), "https://vault.keyform.test/.default"),
        (200, String::new())
    );
}

#[test]
fn vault_rules_follow_the_resource_manager_reference() {
    let server = AzureTestServer::start();
    let token = token(&server, "https://management.keyform.test");
    let url = |name: &str| vault_url(&server, name);
    let body = |retention: i64| {
        let properties = json!({
            "tenantId": server.tenant_id(),
            "sku": {"family": "A", "name": "standard"},
            "softDeleteRetentionInDays": retention,
        });
        json!({"location": "westeurope", "properties": properties})
    };
    assert_eq!(send_json(&server, "PUT", &url("kfshort"), &token, body(6)).status, 400);
    assert_eq!(send_json(&server, "PUT", &url("kflong"), &token, body(91)).status, 400);
    assert_eq!(
        send_json(&server, "PUT", &url("kfa--b"), &token, body(7)).body["error"]["code"],
        "VaultNameNotValid"
    );
    assert_eq!(send_json(&server, "PUT", &url("kfok"), &token, body(30)).status, 201);
    assert_eq!(
        send_json(&server, "PUT", &url("kfok"), &token, body(30)).status,
        200,
        "a PUT with the same retention updates"
    );
    let changed = send_json(&server, "PUT", &url("kfok"), &token, body(31));
    assert_eq!(changed.status, 400);
    let elsewhere = url("kfok").replace("/rg/", "/other-rg/");
    assert_eq!(
        send_json(&server, "PUT", &elsewhere, &token, body(30)).body["error"]["code"],
        "VaultAlreadyExists"
    );
    let wrong_subscription = url("kfok").replace(&server.subscription_id(), "00000000-0000-0000-0000-000000000000");
    assert_eq!(
        send_json(&server, "GET", &wrong_subscription, &token, Value::Null).body["error"]["code"],
        "SubscriptionNotFound"
    );
    let vault_token = self::token(&server, "https://vault.keyform.test");
    let wrong_audience = send(&server, "GET", &url("kfok"), Some(&vault_token), Vec::new());
    assert_eq!(
        wrong_audience.body["error"]["code"],
        "InvalidAuthenticationTokenAudience"
    );
    assert_eq!(
        send(&server, "DELETE", &url("kfnone"), Some(&token), Vec::new()).status,
        204
    );
}
