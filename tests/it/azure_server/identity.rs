//! The Entra ID side (`login.keyform.test`): the v2.0 token endpoint for the client credentials grant, by client
//! secret or by client assertion (workload identity federation), the OpenID configuration document and instance
//! discovery that MSAL-based libraries read, and the check of the bearer tokens it issued.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::routing::{LOGIN_HOST, MANAGEMENT_HOST, VAULT_SUFFIX};
use super::state::{Identity, IssuedToken, Shared, State, lock, wall_clock};

/// The resource (audience) of Key Vault tokens in this test cloud.
pub fn key_vault_resource() -> String {
    format!("https://{VAULT_SUFFIX}")
}

/// The resource (audience) of Azure Resource Manager tokens in this test cloud.
pub fn resource_manager_resource() -> String {
    format!("https://{MANAGEMENT_HOST}")
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const TOKEN_LIFETIME_SECONDS: i64 = 3599;

/// Serves one Entra ID request.
pub fn route(shared: &Shared, request: &Request) -> Reply {
    let segments = request.segments();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", [tenant, "oauth2", "v2.0", "token"]) => token(shared, tenant, request),
        ("GET", [tenant, "v2.0", ".well-known", "openid-configuration"]) => openid_configuration(shared, tenant),
        ("GET", [_, "discovery", "instance"]) => instance_discovery(shared),
        _ => oauth_error(
            404,
            "invalid_request",
            "AADSTS90000: the path is not an endpoint of this server.",
        ),
    }
}

/// The OAuth 2.0 error body Entra ID returns (RFC 6749 section 5.2 plus `error_codes`).
fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    let code: u64 = description
        .strip_prefix("AADSTS")
        .and_then(|rest| rest.split(':').next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "trace_id": uuid::Uuid::new_v4().to_string(),
            "correlation_id": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

/// Microsoft identity platform - Token endpoint, client credentials grant:
/// `POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`,
/// `client_id`, `scope` (`{resource}/.default`) and `client_secret`, or `client_assertion_type`
/// (`urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) and `client_assertion`.
fn token(shared: &Shared, tenant: &str, request: &Request) -> Reply {
    let form = request.form();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    };
    let mut state = lock(shared);
    let identity = state.identity.clone();
    if tenant != identity.tenant_id {
        return oauth_error(
            400,
            "invalid_request",
            &format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."),
        );
    }
    if field("grant_type") != "client_credentials" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type. This server supports client_credentials.",
        );
    }
    let client_id = field("client_id");
    if client_id != identity.client_id {
        return oauth_error(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        );
    }
    if let Err(reply) = check_credential(&field, &identity, client_id) {
        return reply;
    }
    let scope = field("scope");
    let Some(resource) = scope.strip_suffix("/.default") else {
        return oauth_error(
            400,
            "invalid_scope",
            &format!(
                "AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows must have \
                 a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    };
    let audience = resource.trim_end_matches('/').to_string();
    if audience != key_vault_resource() && audience != resource_manager_resource() {
        return oauth_error(
            400,
            "invalid_resource",
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}."
            ),
        );
    }
    let access_token = issue(&mut state, &audience, client_id);
    Reply::json(
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "ext_expires_in": TOKEN_LIFETIME_SECONDS,
            "access_token": access_token,
        }),
    )
}

/// Checks the credential of a client credentials request: a client secret, or a client assertion (workload identity).
fn check_credential<'a>(field: &impl Fn(&str) -> &'a str, identity: &Identity, client_id: &str) -> Result<(), Reply> {
    let secret = field("client_secret");
    let assertion = field("client_assertion");
    if !secret.is_empty() {
        return (secret == identity.client_secret).then_some(()).ok_or_else(|| {
            oauth_error(
                401,
                "invalid_client",
                &format!(
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is \
                     the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            )
        });
    }
    if assertion.is_empty() {
        return Err(oauth_error(
            401,
            "invalid_client",
            "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        ));
    }
    if field("client_assertion_type") != ASSERTION_TYPE {
        return Err(oauth_error(
            400,
            "invalid_request",
            "AADSTS50027: JWT token is invalid or malformed: client_assertion_type is not jwt-bearer.",
        ));
    }
    if assertion != identity.federated_token {
        return Err(oauth_error(
            400,
            "invalid_client",
            "AADSTS700211: No matching federated identity record found for presented assertion issuer.",
        ));
    }
    Ok(())
}

/// Issues an access token of the server's tenant for `audience` to `client_id`, valid for
/// [`TOKEN_LIFETIME_SECONDS`], and remembers it so that [`check_bearer`] accepts it.
pub fn issue(state: &mut State, audience: &str, client_id: &str) -> String {
    let now = wall_clock();
    let tenant = state.identity.tenant_id.clone();
    let access_token = access_token(audience, &tenant, client_id, now);
    state.tokens.insert(
        access_token.clone(),
        IssuedToken {
            audience: audience.to_string(),
            tenant_id: tenant,
            expires_at: now + TOKEN_LIFETIME_SECONDS,
        },
    );
    access_token
}

/// A JWT-shaped access token (the server recognises it by value; the signature is random).
fn access_token(audience: &str, tenant: &str, client_id: &str, now: i64) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "keyform-test"});
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.keyform.test/{tenant}/"),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "appid": client_id,
        "tid": tenant,
        "oid": client_id,
        "sub": client_id,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
    });
    let signature: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// OpenID Connect discovery: `GET https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration`.
fn openid_configuration(shared: &Shared, tenant: &str) -> Reply {
    let known = lock(shared).identity.tenant_id.clone();
    if tenant != known && tenant != "common" && tenant != "organizations" {
        return oauth_error(
            400,
            "invalid_tenant",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    let base = format!("https://{LOGIN_HOST}/{tenant}");
    Reply::json(
        200,
        json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://{LOGIN_HOST}/{tenant}/v2.0"),
            "request_uri_parameter_supported": false,
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "tenant_region_scope": Value::Null,
            "cloud_instance_name": "keyform.test",
        }),
    )
}

/// Instance discovery: `GET https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&
/// authorization_endpoint=...`, which MSAL calls for an authority it does not know.
fn instance_discovery(shared: &Shared) -> Reply {
    let tenant = lock(shared).identity.tenant_id.clone();
    Reply::json(
        200,
        json!({
            "tenant_discovery_endpoint": format!("https://{LOGIN_HOST}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": [{
                "preferred_network": LOGIN_HOST,
                "preferred_cache": LOGIN_HOST,
                "aliases": [LOGIN_HOST],
            }],
        }),
    )
}

/// Why a bearer token was not accepted.
pub enum TokenProblem {
    Missing,
    Invalid,
    WrongAudience(String),
    WrongTenant,
}

/// Checks the `Authorization: Bearer` header against the tokens this server issued for `audience` in `tenant`.
pub fn check_bearer(shared: &Shared, request: &Request, audience: &str, tenant: &str) -> Result<(), TokenProblem> {
    let Some(header) = request.header("authorization") else {
        return Err(TokenProblem::Missing);
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return Err(TokenProblem::Missing);
    };
    let state = lock(shared);
    let Some(issued) = state.tokens.get(token.trim()) else {
        return Err(TokenProblem::Invalid);
    };
    if issued.expires_at <= wall_clock() {
        return Err(TokenProblem::Invalid);
    }
    if issued.audience != audience {
        return Err(TokenProblem::WrongAudience(issued.audience.clone()));
    }
    if issued.tenant_id != tenant {
        return Err(TokenProblem::WrongTenant);
    }
    Ok(())
}
