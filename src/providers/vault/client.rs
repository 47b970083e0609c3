//! The HTTP client a configured `vault` provider uses, and the one place
//! that turns a Vault answer into a [`ProviderError`].
//!
//! vaultrs builds the HTTP client (TLS backend, CA certificates, timeout).
//! vaultrs is never given the token: keyform keeps it as a
//! [`SensitiveString`] and adds the `X-Vault-Token` header to each request
//! itself, so no settings struct that vaultrs may print ever holds it. The
//! calls themselves go through [`VaultClient::call`] (raw API paths), so
//! every endpoint keyform needs, and every error body, is reachable the same
//! way.
//!
//! Authentication is by token, or by a login ([`Login`]: AppRole, JWT or
//! Kubernetes): the client logs in with POST `auth/MOUNT/login`, keeps the
//! client token and its lease duration, and before each request logs in
//! again when less than 10% of the TTL remains, so an apply that outlasts
//! one token goes on with the next. A configured token is looked up on first
//! use (`auth/token/lookup-self`) and, when Vault says it is renewable,
//! renewed (`auth/token/renew-self`) once half of its TTL has passed.
//!
//! Vault's `errors` list becomes the message of a [`ProviderError`] naming
//! the method and path; a 403 says which capability on which path is missing.
//! A read, list or delete that Vault answers with a passing failure (a 5xx
//! such as `transaction commit failed`, or 412) is sent again after a short
//! wait, up to three times.

use super::login::Login;
use crate::provider::{Attributes, ProviderError};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The waits before each repeat of a request Vault answered with a passing failure.
const RETRY_WAITS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_millis(900),
];

/// Whether an answer is a passing failure worth repeating the request for: a 5xx other than 501 (Not
/// Implemented), such as `transaction commit failed` from storage while a mount is being removed, or 412 (a
/// performance standby that has not caught up yet).
fn is_transient(status: u16) -> bool {
    status == 412 || ((500..600).contains(&status) && status != 501)
}

/// The provider block, as the client needs it.
#[derive(Debug)]
pub struct Settings {
    pub address: url::Url,
    /// Debug prints `(sensitive)`. Empty when `login` is set.
    pub token: SensitiveString,
    /// Log in (AppRole, JWT, Kubernetes) instead of using `token`.
    pub login: Option<Login>,
    pub namespace: Option<String>,
    pub ca_cert_file: Option<String>,
    pub skip_tls_verify: bool,
}

/// An error in the provider block's settings.
pub fn configuration_error(message: impl Into<String>) -> ProviderError {
    ProviderError::new("InvalidProviderConfiguration", message)
}

/// Whether the host of an address is the loopback interface.
pub fn is_loopback(address: &url::Url) -> bool {
    match address.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Settings {
    /// Reads the evaluated provider block; `environment` gives VAULT_ADDR and VAULT_TOKEN, and
    /// `folder` is the configuration folder.
    pub fn from_block(
        attributes: &Attributes,
        secrets: &BTreeMap<String, SensitiveString>,
        folder: &std::path::Path,
        environment: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ProviderError> {
        let text = |name: &str| {
            attributes
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let written = text("address")
            .or_else(|| environment("VAULT_ADDR").filter(|value| !value.trim().is_empty()))
            .ok_or_else(|| {
                configuration_error("the vault provider has no address")
                    .with_help("set `address` in the provider block, or VAULT_ADDR")
            })?;
        let address = url::Url::parse(written.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| configuration_error(format!("address `{written}` is not an http:// or https:// URL")))?;
        let login = Login::from_block(attributes, secrets, secrets.contains_key("token"), folder, &environment)?;
        let token = match secrets.get("token") {
            Some(token) => token.clone(),
            None if login.is_some() => SensitiveString::new(String::new()),
            None => SensitiveString::new(environment("VAULT_TOKEN").unwrap_or_default()),
        };
        if login.is_none() && token.expose().trim().is_empty() {
            return Err(configuration_error("the vault provider has no token").with_help(
                "set VAULT_TOKEN, or `token = env(\"...\")` in the provider block, or log in with an `approle`, `jwt` or `kubernetes` block",
            ));
        }
        let skip_tls_verify = attributes
            .get("skip_tls_verify")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        if skip_tls_verify && !is_loopback(&address) {
            return Err(configuration_error(format!(
                "skip_tls_verify is refused for `{address}`: it is allowed only for a loopback address"
            ))
            .with_help("give the server's CA certificate with `ca_cert_file` instead"));
        }
        Ok(Settings {
            address,
            token,
            login,
            namespace: text("namespace"),
            ca_cert_file: text("ca_cert_file"),
            skip_tls_verify,
        })
    }
}

/// A token obtained by a login, and when it stops being worth using.
struct Session {
    token: SensitiveString,
    obtained: Instant,
    /// The lease duration Vault gave; zero for a token that does not expire.
    ttl: Duration,
    /// Whether Vault renews the token (`auth/token/renew-self`); a login's token is obtained again instead.
    renewable: bool,
}

impl Session {
    /// Whether half of the token's TTL has passed: a renewable token is renewed then, while requests still
    /// come, since an expired token can no longer be renewed.
    fn is_half_spent(&self, now: Instant) -> bool {
        !self.ttl.is_zero() && now.saturating_duration_since(self.obtained) >= self.ttl / 2
    }

    /// Whether less than 10% of the token's TTL remains.
    fn is_stale(&self, now: Instant) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let remaining = self.ttl.saturating_sub(now.saturating_duration_since(self.obtained));
        remaining < self.ttl / 10
    }
}

/// How the client authenticates.
enum Authentication {
    /// A configured token. Its lease (looked up on first use) is renewed (`auth/token/renew-self`) once half
    /// of it has passed, when Vault says it is renewable.
    Token {
        token: SensitiveString,
        lease: tokio::sync::Mutex<Option<Session>>,
    },
    Login {
        login: Login,
        session: tokio::sync::Mutex<Option<Session>>,
    },
}

/// An HTTP method of the Vault API. `List` is Vault's LIST (sent as GET with `list=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    List,
    Post,
    Put,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Whether sending the request twice does no more than sending it once: reads, lists and deletes. A
    /// POST or PUT may create something each time (a secret_id), so it is never repeated here.
    fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::List | Method::Delete)
    }

    /// The ACL capability a request with this method needs.
    fn capability(self) -> &'static str {
        match self {
            Method::Get => "read",
            Method::List => "list",
            Method::Post | Method::Put => "create or update (update for an existing path)",
            Method::Delete => "delete",
        }
    }
}

/// A Vault answer: the status and the JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    /// The `data` object of a successful answer.
    pub fn data(&self) -> &serde_json::Value {
        &self.body["data"]
    }
}

/// A configured client.
pub struct VaultClient {
    http: vaultrs::client::VaultClient,
    base: String,
    authentication: Authentication,
    namespace: Option<String>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("VaultClient")
            .field("base", &self.base)
            .field("token", &"(sensitive)")
            .finish()
    }
}

impl VaultClient {
    pub fn new(settings: Settings) -> Result<VaultClient, ProviderError> {
        let mut builder = vaultrs::client::VaultClientSettingsBuilder::default();
        // The address was parsed above, so this setter cannot panic.
        builder
            .address(settings.address.as_str())
            .token("")
            .ca_certs(settings.ca_cert_file.iter().cloned().collect())
            .identity(None)
            .verify(!settings.skip_tls_verify)
            .timeout(Some(REQUEST_TIMEOUT));
        let built = builder
            .build()
            .map_err(|error| configuration_error(format!("the vault client settings are invalid: {error}")))?;
        let http = vaultrs::client::VaultClient::new(built).map_err(|error| {
            configuration_error(format!(
                "the vault client could not be built: {}",
                crate::provider::error_chain(&error)
            ))
        })?;
        Ok(VaultClient {
            http,
            base: settings.address.as_str().trim_end_matches('/').to_string(),
            authentication: match settings.login {
                Some(login) => Authentication::Login {
                    login,
                    session: tokio::sync::Mutex::new(None),
                },
                None => Authentication::Token {
                    token: settings.token,
                    lease: tokio::sync::Mutex::new(None),
                },
            },
            namespace: settings.namespace,
        })
    }

    /// The token to send: the configured one, or the login session's, logging in again
    /// when there is none yet or less than 10% of its TTL remains.
    async fn current_token(&self) -> Result<SensitiveString, ProviderError> {
        match &self.authentication {
            Authentication::Token { token, lease } => {
                let mut lease = lease.lock().await;
                let now = Instant::now();
                match lease.as_ref() {
                    None => *lease = Some(self.token_lease(token, "auth/token/lookup-self").await),
                    Some(current) if current.renewable && current.is_half_spent(now) => {
                        *lease = Some(self.token_lease(token, "auth/token/renew-self").await);
                    }
                    Some(_) => {}
                }
                Ok(token.clone())
            }
            Authentication::Login { login, session } => {
                let mut session = session.lock().await;
                if let Some(current) = session.as_ref().filter(|current| !current.is_stale(Instant::now())) {
                    return Ok(current.token.clone());
                }
                let fresh = self.log_in(login).await?;
                let token = fresh.token.clone();
                *session = Some(fresh);
                Ok(token)
            }
        }
    }

    /// The lease of the configured token, from `auth/token/lookup-self` (GET) or `auth/token/renew-self`
    /// (POST). A token Vault does not describe (no permission, or an answer without a TTL) is used as it is,
    /// never renewed; its own requests then say what is wrong.
    async fn token_lease(&self, token: &SensitiveString, path: &str) -> Session {
        let renewing = path.ends_with("renew-self");
        let method = if renewing { Method::Post } else { Method::Get };
        let obtained = Instant::now();
        let answer = self
            .send_with(method, path, renewing.then(|| serde_json::json!({})), Some(token), None)
            .await;
        let (ttl, renewable) = match &answer {
            Ok(answer) if (200..300).contains(&answer.status) && renewing => (
                answer.body["auth"]["lease_duration"].as_u64().unwrap_or(0),
                answer.body["auth"]["renewable"].as_bool().unwrap_or(false),
            ),
            Ok(answer) if (200..300).contains(&answer.status) => (
                answer.data()["ttl"].as_u64().unwrap_or(0),
                answer.data()["renewable"].as_bool().unwrap_or(false),
            ),
            _ => (0, false),
        };
        tracing::debug!(path, ttl, renewable, "vault token lease");
        Session {
            token: token.clone(),
            obtained,
            ttl: Duration::from_secs(ttl),
            renewable,
        }
    }

    /// POST auth/MOUNT/login with what the login block gives; the answer's client token and lease.
    async fn log_in(&self, login: &Login) -> Result<Session, ProviderError> {
        let path = login.path();
        let obtained = Instant::now();
        let answer = self
            .send_with(Method::Post, &path, Some(login.body()?), None, None)
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(api_error(Method::Post, &path, &answer).with_help(login.help()));
        }
        let token = answer.body["auth"]["client_token"]
            .as_str()
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ProviderError::new("UnexpectedResponse", format!("POST {path} returned no client token")))?;
        let ttl = answer.body["auth"]["lease_duration"].as_u64().unwrap_or(0);
        tracing::debug!(path = %path, method = login.block(), ttl, "logged in to Vault");
        Ok(Session {
            token: SensitiveString::new(token.to_string()),
            obtained,
            ttl: Duration::from_secs(ttl),
            renewable: false,
        })
    }

    /// Sends one request to `/v1/{path}`. A non-2xx answer is returned as it is (404 included);
    /// only a request that could not be sent is an Err.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Answer, ProviderError> {
        let token = self.current_token().await?;
        self.send_with(method, path, body, Some(&token), None).await
    }

    /// Sends one request whose answer Vault wraps in a single-use token valid for `wrap_ttl` seconds
    /// (`X-Vault-Wrap-TTL`): the answer's `wrap_info` carries it instead of `data`. Fails on any answer but 2xx.
    pub async fn call_wrapped(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        wrap_ttl: u64,
    ) -> Result<Answer, ProviderError> {
        let token = self.current_token().await?;
        let answer = self.send_with(method, path, body, Some(&token), Some(wrap_ttl)).await?;
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(api_error(method, path, &answer))
        }
    }

    /// Sends one request with `token` (none for a login), wrapped for `wrap_ttl` seconds when given. A request
    /// that changes nothing twice ([`Method::is_idempotent`]) is sent again, after a short wait, while Vault
    /// answers with a passing failure ([`is_transient`]), as Vault's own client does.
    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        token: Option<&SensitiveString>,
        wrap_ttl: Option<u64>,
    ) -> Result<Answer, ProviderError> {
        let mut waits = RETRY_WAITS.iter();
        loop {
            let answer = self.send_once(method, path, body.as_ref(), token, wrap_ttl).await?;
            match waits.next() {
                Some(wait) if method.is_idempotent() && is_transient(answer.status) => {
                    tracing::debug!(
                        path,
                        status = answer.status,
                        "Vault answered with a passing failure; retrying"
                    );
                    tokio::time::sleep(*wait).await;
                }
                _ => return Ok(answer),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        token: Option<&SensitiveString>,
        wrap_ttl: Option<u64>,
    ) -> Result<Answer, ProviderError> {
        let url = format!("{}/v1/{}", self.base, path.trim_start_matches('/'));
        let http = &self.http.http.http;
        let mut request = match method {
            Method::Get => http.get(&url),
            Method::List => http.get(format!("{url}?list=true")),
            Method::Post => http.post(&url),
            Method::Put => http.put(&url),
            Method::Delete => http.delete(&url),
        };
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose());
        }
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace.as_str());
        }
        if let Some(seconds) = wrap_ttl {
            request = request.header("X-Vault-Wrap-TTL", format!("{seconds}s"));
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.map_err(|error| {
            let mut failed = ProviderError::new(
                "RequestFailed",
                format!(
                    "{} {path} could not be sent to {}: {}",
                    method.name(),
                    self.base,
                    crate::provider::error_chain(&error)
                ),
            )
            .with_help("check that Vault is running at the provider's `address` (or VAULT_ADDR), and its TLS settings");
            failed.retryable = true;
            failed
        })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|error| {
            ProviderError::new(
                "RequestFailed",
                format!("{} {path}: reading the answer failed: {error}", method.name()),
            )
        })?;
        let body = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
        };
        Ok(Answer { status, body })
    }

    /// Sends one request and fails on any answer but 2xx.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Answer, ProviderError> {
        let answer = self.send(method, path, body).await?;
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(api_error(method, path, &answer))
        }
    }

    /// GET `path`: the answer's `data`, or None when Vault answers 404; any other failure is an Err.
    pub async fn read_data(&self, path: &str) -> Result<Option<serde_json::Value>, ProviderError> {
        let answer = self.send(Method::Get, path, None).await?;
        match answer.status {
            404 => Ok(None),
            status if (200..300).contains(&status) => Ok(Some(answer.data().clone())),
            _ => Err(api_error(Method::Get, path, &answer)),
        }
    }

    /// LIST `path`: the keys, none when Vault answers 404 (nothing to list).
    pub async fn list_keys(&self, path: &str) -> Result<Vec<String>, ProviderError> {
        let answer = self.send(Method::List, path, None).await?;
        match answer.status {
            404 => Ok(Vec::new()),
            status if (200..300).contains(&status) => Ok(answer.data()["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()),
            _ => Err(api_error(Method::List, path, &answer)),
        }
    }

    /// DELETE `path`; an object already gone (404) is no error.
    pub async fn delete(&self, path: &str) -> Result<(), ProviderError> {
        let answer = self.send(Method::Delete, path, None).await?;
        if (200..300).contains(&answer.status) || answer.status == 404 {
            Ok(())
        } else {
            Err(api_error(Method::Delete, path, &answer))
        }
    }
}

/// Vault's `errors` list joined, or a stand-in when it sent none.
pub fn errors_of(answer: &Answer) -> String {
    let errors: Vec<&str> = answer.body["errors"]
        .as_array()
        .map(|items| items.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if errors.is_empty() {
        "(Vault sent no error message)".to_string()
    } else {
        errors.join("; ")
    }
}

/// Turns a failed answer into a [`ProviderError`] naming the method and the path.
pub fn api_error(method: Method, path: &str, answer: &Answer) -> ProviderError {
    let errors = errors_of(answer);
    let (code, help) = match answer.status {
        403 => (
            "PermissionDenied",
            Some(format!(
                "the token lacks the `{}` capability on `{path}`: grant it in a policy of the token (path \"{path}\" {{ capabilities = [...] }}), or check that the token has not expired",
                method.capability()
            )),
        ),
        404 => ("NotFound", None),
        400 => ("InvalidRequest", None),
        429 => (
            "RateLimited",
            Some("Vault rate-limited the calls: lower --parallelism".to_string()),
        ),
        503 => (
            "Unavailable",
            Some("Vault is sealed or in standby: unseal it, or point `address` at the active node".to_string()),
        ),
        status if status >= 500 => ("ServerError", None),
        _ => ("UnexpectedResponse", None),
    };
    let mut error = ProviderError::new(
        code,
        format!(
            "{} {path} failed with status {}: {errors}",
            method.name(),
            answer.status
        ),
    );
    error.retryable = matches!(answer.status, 429 | 500..=599);
    if let Some(help) = help {
        error = error.with_help(help);
    }
    error
}

/// The error of a create that finds an object keyform did not make at `id` (`label` names the type,
/// `name_field` the attribute to choose another value of).
pub fn already_exists(label: &str, id: &str, name_field: &str) -> ProviderError {
    ProviderError::new(
        "AlreadyExists",
        format!("{label} `{id}` already exists and keyform did not create it"),
    )
    .with_help(format!(
        "import it (`keyform import ADDRESS {id}`) or choose another {name_field}"
    ))
}

/// The error of an object at `id` that a write did not leave behind (`label` names the type).
pub fn missing_after_write(label: &str, id: &str) -> ProviderError {
    ProviderError::new("NotFound", format!("{label} `{id}` was not found after it was written"))
}

/// A path segment checked: no empty segment, no `..`, no leading or trailing slash.
pub fn clean_path(name: &str, value: &str) -> Result<String, ProviderError> {
    let trimmed = value.trim().trim_matches('/');
    if trimmed.is_empty()
        || trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("{name} `{value}` is not a valid Vault path"),
        ));
    }
    Ok(trimmed.to_string())
}

/// A name that is one path segment: [`clean_path`], and no `/`.
pub fn clean_name(name: &str, value: &str) -> Result<String, ProviderError> {
    let cleaned = clean_path(name, value)?;
    if cleaned.contains('/') {
        return Err(ProviderError::new(
            "InvalidParameter",
            format!("{name} `{cleaned}` must not contain `/`"),
        ));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::{Answer, Method, Settings, api_error, clean_name, clean_path};
    use crate::provider::attributes_from_json as attributes;
    use crate::secret::SensitiveString;
    use std::collections::BTreeMap;

    fn here() -> &'static std::path::Path {
        std::path::Path::new(".")
    }

    #[test]
    fn settings_default_to_the_environment() {
        let environment = |name: &str| match name {
            "VAULT_ADDR" => Some("http://127.0.0.1:8200".to_string()),
            "VAULT_TOKEN" => Some("hidden-token".to_string()),
            _ => None,
        };
        let settings = Settings::from_block(
            &attributes(serde_json::json!({})),
            &BTreeMap::new(),
            here(),
            environment,
        )
        .expect("settings");
        assert_eq!(settings.address.as_str(), "http://127.0.0.1:8200/");
        assert_eq!(settings.token.expose(), "hidden-token");
        assert!(!format!("{settings:?}").contains("hidden-token"));
        let none = |_: &str| None;
        assert!(Settings::from_block(&attributes(serde_json::json!({})), &BTreeMap::new(), here(), none).is_err());
    }

    #[test]
    fn skip_tls_verify_only_on_loopback() {
        let token = BTreeMap::from([("token".to_string(), SensitiveString::new("t"))]);
        let none = |_: &str| None;
        for (address, allowed) in [
            ("https://127.0.0.1:8200", true),
            ("https://localhost:8200", true),
            ("https://[::1]:8200", true),
            ("https://vault.example.com", false),
            ("https://10.0.0.1:8200", false),
        ] {
            let block = attributes(serde_json::json!({ "address": address, "skip_tls_verify": true }));
            assert_eq!(
                Settings::from_block(&block, &token, here(), none).is_ok(),
                allowed,
                "{address}"
            );
        }
        let block = attributes(serde_json::json!({ "address": "vault:8200" }));
        assert!(Settings::from_block(&block, &token, here(), none).is_err());
    }

    #[test]
    fn a_denied_request_names_the_capability_and_the_path() {
        let answer = Answer {
            status: 403,
            body: serde_json::json!({ "errors": ["permission denied"] }),
        };
        let error = api_error(Method::Put, "sys/policies/acl/app", &answer);
        assert_eq!(error.code, "PermissionDenied");
        assert!(
            error
                .message
                .contains("PUT sys/policies/acl/app failed with status 403: permission denied")
        );
        let help = error.help.unwrap_or_default();
        assert!(help.contains("`update`") || help.contains("update"), "{help}");
        assert!(help.contains("`sys/policies/acl/app`"), "{help}");
        let read = api_error(Method::Get, "secret/metadata/x", &answer);
        assert!(
            read.help
                .unwrap_or_default()
                .contains("`read` capability on `secret/metadata/x`")
        );
    }

    #[tokio::test]
    async fn an_https_client_builds_and_an_unreachable_server_is_reported() {
        let token = BTreeMap::from([("token".to_string(), SensitiveString::new("t"))]);
        let block = attributes(serde_json::json!({ "address": "https://127.0.0.1:9", "skip_tls_verify": true }));
        let settings = Settings::from_block(&block, &token, here(), |_| None).expect("settings");
        let client = super::VaultClient::new(settings).expect("an https client");
        let error = client
            .send(Method::Get, "sys/health", None)
            .await
            .expect_err("nothing listens on port 9");
        assert_eq!(error.code, "RequestFailed");
        assert!(error.retryable);
        assert!(
            error
                .message
                .contains("GET sys/health could not be sent to https://127.0.0.1:9"),
            "{}",
            error.message
        );
    }

    #[test]
    fn only_passing_failures_of_requests_that_change_nothing_twice_are_repeated() {
        for (status, transient) in [
            (500, true),
            (502, true),
            (503, true),
            (412, true),
            (501, false),
            (404, false),
            (400, false),
            (403, false),
            (200, false),
        ] {
            assert_eq!(super::is_transient(status), transient, "{status}");
        }
        assert!(Method::Get.is_idempotent() && Method::List.is_idempotent() && Method::Delete.is_idempotent());
        assert!(!Method::Post.is_idempotent() && !Method::Put.is_idempotent());
    }

    /// A loopback HTTP server that answers each request with the next of `answers` (status, body), then 200;
    /// returns its address and the request lines it saw.
    async fn scripted_server(
        answers: Vec<(u16, &'static str)>,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            let mut answers = answers.into_iter();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buffer = vec![0u8; 16 * 1024];
                let read = stream.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..read]).to_string();
                record
                    .lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_string());
                let (status, body) = if head.contains("lookup-self") {
                    (200, r#"{"data":{"ttl":0,"renewable":false}}"#)
                } else {
                    answers.next().unwrap_or((200, r#"{"data":{"keys":["a"]}}"#))
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        (address, seen)
    }

    fn client_for(address: &str) -> super::VaultClient {
        let token = BTreeMap::from([("token".to_string(), SensitiveString::new("t"))]);
        let block = attributes(serde_json::json!({ "address": address }));
        let settings = Settings::from_block(&block, &token, here(), |_| None).expect("settings");
        super::VaultClient::new(settings).expect("a client")
    }

    #[tokio::test]
    async fn a_list_answered_with_a_passing_failure_is_repeated_and_a_post_is_not() {
        let failure = r#"{"errors":["1 error occurred:\n\t* transaction commit failed\n\n"]}"#;
        let (address, seen) = scripted_server(vec![(500, failure), (503, failure)]).await;
        let client = client_for(&address);
        let keys = client.list_keys("auth/approle/role").await.expect("the third answer");
        assert_eq!(keys, vec!["a".to_string()]);
        let lists = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains("list=true"))
            .count();
        assert_eq!(lists, 3, "{:?}", seen.lock().unwrap());

        let (address, seen) = scripted_server(vec![(500, failure)]).await;
        let client = client_for(&address);
        let error = client
            .call(Method::Post, "auth/approle/role/ci/secret-id", None)
            .await
            .expect_err("a POST is sent once");
        assert!(error.message.contains("transaction commit failed"), "{}", error.message);
        let posts = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.starts_with("POST"))
            .count();
        assert_eq!(posts, 1);
    }

    #[test]
    fn a_login_block_replaces_the_token() {
        let environment = |name: &str| match name {
            "CI_SECRET_ID" => Some("hidden-secret-id".to_string()),
            "VAULT_TOKEN" => Some("unused-token".to_string()),
            _ => None,
        };
        let block = attributes(serde_json::json!({
            "address": "http://127.0.0.1:8200",
            "approle": { "role_id": "role", "secret_id_env": "CI_SECRET_ID", "mount": "ci" }
        }));
        let settings = Settings::from_block(&block, &BTreeMap::new(), here(), environment).expect("settings");
        let login = settings.login.as_ref().expect("an approle login");
        assert_eq!(login.path(), "auth/ci/login");
        assert!(settings.token.expose().is_empty());
        assert!(!format!("{settings:?}").contains("hidden-secret-id"));
        let both = BTreeMap::from([("token".to_string(), SensitiveString::new("t"))]);
        let error = Settings::from_block(&block, &both, here(), environment).expect_err("token and approle");
        assert!(error.message.contains("more than one way"), "{}", error.message);
    }

    #[test]
    fn a_session_is_stale_when_less_than_a_tenth_of_its_ttl_remains() {
        let obtained = std::time::Instant::now();
        let session = super::Session {
            renewable: false,
            token: SensitiveString::new("t"),
            obtained,
            ttl: std::time::Duration::from_secs(100),
        };
        assert!(!session.is_stale(obtained + std::time::Duration::from_secs(89)));
        assert!(session.is_stale(obtained + std::time::Duration::from_secs(91)));
        let forever = super::Session {
            ttl: std::time::Duration::ZERO,
            ..session
        };
        assert!(!forever.is_stale(obtained + std::time::Duration::from_secs(1_000_000)));
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(clean_path("path", "/kv/app/").expect("valid"), "kv/app");
        for wrong in ["", "/", "a//b", "a/../b"] {
            assert!(clean_path("path", wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_name_is_one_path_segment() {
        assert_eq!(clean_name("role_name", "/deploy/").expect("valid"), "deploy");
        let error = clean_name("role_name", "a/b").expect_err("two segments");
        assert_eq!(error.code, "InvalidParameter");
        assert!(
            error.message.contains("role_name `a/b` must not contain `/`"),
            "{}",
            error.message
        );
    }
}
