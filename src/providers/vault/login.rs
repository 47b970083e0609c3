//! The ways the `vault` provider logs in instead of using a token: the
//! nested provider blocks `approle { role_id, secret_id | secret_id_env,
//! mount }`, `jwt { role, jwt, mount }` (a CI system's OIDC token, such as
//! GitHub Actions' or GitLab's) and `kubernetes { role, jwt_file, mount }`
//! (the pod's service-account token).
//!
//! Each is a POST to `auth/MOUNT/login`; [`super::client`] sends it, keeps
//! the token it returns, and logs in again before that token runs out. The
//! secret parts (`secret_id`, `jwt`) arrive as value sources in
//! `ConfigureRequest.secrets` under `BLOCK.ATTRIBUTE` and are held as
//! [`SensitiveString`]s; the Kubernetes token is read from its file at each
//! login, since the kubelet rotates it. At most one way to authenticate may
//! be configured: `token`, or one of these blocks.

use super::client::{clean_path, configuration_error};
use crate::provider::{AttributeSchema, AttributeType, Attributes, BlockSchema, ProviderError};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable the AppRole secret_id is read from when the block gives neither
/// `secret_id` nor `secret_id_env`.
pub const DEFAULT_SECRET_ID_ENV: &str = "VAULT_APPROLE_SECRET_ID";
/// Where a pod's service-account token is mounted.
pub const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The blocks, in the order messages list them.
pub const BLOCKS: &[&str] = &["approle", "jwt", "kubernetes"];

/// A configured login.
#[derive(Debug, Clone)]
pub enum Login {
    AppRole {
        mount: String,
        role_id: String,
        /// Debug prints `(sensitive)`.
        secret_id: SensitiveString,
    },
    Jwt {
        mount: String,
        role: String,
        /// Debug prints `(sensitive)`.
        jwt: SensitiveString,
    },
    Kubernetes {
        mount: String,
        role: String,
        jwt_file: PathBuf,
    },
}

/// The nested blocks of the provider block.
pub fn blocks() -> Vec<BlockSchema> {
    let mount = |default: &'static str| AttributeSchema::new("mount", AttributeType::String, default);
    vec![
        BlockSchema {
            name: "approle",
            attributes: vec![
                AttributeSchema::new("role_id", AttributeType::String, "the AppRole's role_id (not secret)").required(),
                AttributeSchema::new(
                    "secret_id",
                    AttributeType::Secret,
                    "the secret_id: a value source such as env(\"CI_SECRET_ID\") (or give `secret_id_env`)",
                ),
                AttributeSchema::new(
                    "secret_id_env",
                    AttributeType::String,
                    "the environment variable that holds the secret_id, instead of `secret_id` (default: VAULT_APPROLE_SECRET_ID)",
                ),
                mount("the path the AppRole auth method is enabled at (default: approle)"),
            ],
            description: "log in with an AppRole instead of a token; the token is obtained again when less than 10% of its TTL remains",
        },
        BlockSchema {
            name: "jwt",
            attributes: vec![
                AttributeSchema::new("role", AttributeType::String, "the JWT auth role to log in as").required(),
                AttributeSchema::new(
                    "jwt",
                    AttributeType::Secret,
                    "the signed token: a value source such as env(\"CI_JOB_JWT\")",
                )
                .required(),
                mount("the path the JWT auth method is enabled at (default: jwt)"),
            ],
            description: "log in with a signed JWT (a CI system's OIDC token) instead of a token; logs in again when less than 10% of the token's TTL remains",
        },
        BlockSchema {
            name: "kubernetes",
            attributes: vec![
                AttributeSchema::new("role", AttributeType::String, "the Kubernetes auth role to log in as").required(),
                AttributeSchema::new(
                    "jwt_file",
                    AttributeType::String,
                    "the service-account token file, read at each login (default: /var/run/secrets/kubernetes.io/serviceaccount/token)",
                ),
                mount("the path the Kubernetes auth method is enabled at (default: kubernetes)"),
            ],
            description: "log in with the pod's service-account token instead of a token; logs in again when less than 10% of the token's TTL remains",
        },
    ]
}

/// A block's string field, trimmed, when set and not blank.
fn field<'a>(block: &'a serde_json::Map<String, serde_json::Value>, name: &str) -> Option<&'a str> {
    block
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn required<'a>(
    block: &'a serde_json::Map<String, serde_json::Value>,
    block_name: &str,
    name: &str,
) -> Result<&'a str, ProviderError> {
    field(block, name).ok_or_else(|| configuration_error(format!("the `{block_name}` block has no `{name}`")))
}

/// The AppRole secret_id: the `secret_id` value source, or the environment variable
/// `secret_id_env` (or [`DEFAULT_SECRET_ID_ENV`]) names; both is an error.
fn approle_secret_id(
    secret_id: Option<SensitiveString>,
    variable: Option<&str>,
    environment: &impl Fn(&str) -> Option<String>,
) -> Result<SensitiveString, ProviderError> {
    match (secret_id, variable) {
        (Some(_), Some(_)) => Err(
            configuration_error("the `approle` block has both `secret_id` and `secret_id_env`")
                .with_help("keep one of them"),
        ),
        (Some(secret_id), None) => Ok(secret_id),
        (None, variable) => {
            let variable = variable.unwrap_or(DEFAULT_SECRET_ID_ENV);
            let help =
                "give `secret_id = env(\"...\")` in the `approle` block, or export the secret_id in that variable";
            environment(variable)
                .filter(|value| !value.trim().is_empty())
                .map(SensitiveString::new)
                .ok_or_else(|| {
                    configuration_error(format!(
                        "the AppRole secret_id environment variable {variable} is not set"
                    ))
                    .with_help(help)
                })
        }
    }
}

impl Login {
    /// The login the provider block configures, if any. `token_given` says whether the block sets
    /// `token`; `folder` is the configuration folder, which a relative `jwt_file` is read from.
    pub fn from_block(
        attributes: &Attributes,
        secrets: &BTreeMap<String, SensitiveString>,
        token_given: bool,
        folder: &Path,
        environment: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Login>, ProviderError> {
        let mut given: Vec<&str> = Vec::new();
        if token_given {
            given.push("token");
        }
        given.extend(BLOCKS.iter().copied().filter(|name| attributes.contains_key(*name)));
        if given.len() > 1 {
            return Err(configuration_error(format!(
                "the vault provider has more than one way to authenticate: {}",
                given
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_help("keep one of `token`, `approle`, `jwt` or `kubernetes`"));
        }
        let Some(name) = given.first().copied().filter(|name| *name != "token") else {
            return Ok(None);
        };
        let block = attributes
            .get(name)
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default();
        let secret = |attribute: &str| secrets.get(&format!("{name}.{attribute}")).cloned();
        let login = match name {
            "approle" => {
                let secret_id = approle_secret_id(secret("secret_id"), field(&block, "secret_id_env"), environment)?;
                Login::AppRole {
                    mount: clean_path("approle.mount", field(&block, "mount").unwrap_or("approle"))?,
                    role_id: required(&block, name, "role_id")?.to_string(),
                    secret_id,
                }
            }
            "jwt" => Login::Jwt {
                mount: clean_path("jwt.mount", field(&block, "mount").unwrap_or("jwt"))?,
                role: required(&block, name, "role")?.to_string(),
                jwt: secret("jwt")
                    .filter(|jwt| !jwt.expose().trim().is_empty())
                    .ok_or_else(|| {
                        configuration_error("the `jwt` block has no `jwt`, or it is empty")
                            .with_help("give the token as a value source: jwt = env(\"CI_JOB_JWT\")")
                    })?,
            },
            _ => Login::Kubernetes {
                mount: clean_path("kubernetes.mount", field(&block, "mount").unwrap_or("kubernetes"))?,
                role: required(&block, name, "role")?.to_string(),
                jwt_file: folder.join(field(&block, "jwt_file").unwrap_or(DEFAULT_JWT_FILE)),
            },
        };
        Ok(Some(login))
    }

    /// The block that configured it.
    pub fn block(&self) -> &'static str {
        match self {
            Login::AppRole { .. } => "approle",
            Login::Jwt { .. } => "jwt",
            Login::Kubernetes { .. } => "kubernetes",
        }
    }

    /// `auth/MOUNT/login`.
    pub fn path(&self) -> String {
        let mount = match self {
            Login::AppRole { mount, .. } | Login::Jwt { mount, .. } | Login::Kubernetes { mount, .. } => mount,
        };
        format!("auth/{mount}/login")
    }

    /// The login request's body; the Kubernetes token is read from its file now.
    pub fn body(&self) -> Result<serde_json::Value, ProviderError> {
        Ok(match self {
            Login::AppRole { role_id, secret_id, .. } => {
                serde_json::json!({ "role_id": role_id, "secret_id": secret_id.expose() })
            }
            Login::Jwt { role, jwt, .. } => serde_json::json!({ "role": role, "jwt": jwt.expose() }),
            Login::Kubernetes { role, jwt_file, .. } => {
                let jwt = std::fs::read_to_string(jwt_file).map(SensitiveString::new).map_err(|error| {
                    configuration_error(format!(
                        "the service-account token file {} could not be read: {error}",
                        jwt_file.display()
                    ))
                    .with_help("run keyform in a pod with a service-account token, or set `jwt_file` in the `kubernetes` block")
                })?;
                serde_json::json!({ "role": role, "jwt": jwt.expose().trim() })
            }
        })
    }

    /// What to check when the login is refused.
    pub fn help(&self) -> &'static str {
        match self {
            Login::AppRole { .. } => {
                "check the `approle` block's role_id, its secret_id (or the variable `secret_id_env` names), and `mount`"
            }
            Login::Jwt { .. } => {
                "check the `jwt` block's role and mount, and that the token is signed by a key the method trusts, unexpired, and carries the audience and claims the role is bound to"
            }
            Login::Kubernetes { .. } => {
                "check the `kubernetes` block's role and mount, and that the service account and namespace of the token are bound to the role"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_JWT_FILE, DEFAULT_SECRET_ID_ENV, Login};
    use crate::provider::attributes_from_json as attributes;
    use crate::secret::SensitiveString;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn login(json: serde_json::Value, secrets: &[(&str, &str)], token_given: bool) -> Result<Option<Login>, String> {
        let secrets: BTreeMap<String, SensitiveString> = secrets
            .iter()
            .map(|(name, value)| (name.to_string(), SensitiveString::new(*value)))
            .collect();
        let environment = |name: &str| (name == "CI_SECRET_ID").then(|| "from-env".to_string());
        Login::from_block(
            &attributes(json),
            &secrets,
            token_given,
            Path::new("/config"),
            &environment,
        )
        .map_err(|error| error.message)
    }

    #[test]
    fn a_jwt_block_takes_its_token_from_the_secrets() {
        let found = login(
            serde_json::json!({ "jwt": { "role": "ci" } }),
            &[("jwt.jwt", "hidden-jwt")],
            false,
        )
        .expect("a login")
        .expect("a jwt login");
        assert_eq!(found.path(), "auth/jwt/login");
        assert_eq!(found.body().expect("body")["jwt"], "hidden-jwt");
        assert!(!format!("{found:?}").contains("hidden-jwt"));
        let missing = login(serde_json::json!({ "jwt": { "role": "ci" } }), &[], false).expect_err("no jwt");
        assert!(missing.contains("no `jwt`"), "{missing}");
    }

    #[test]
    fn a_kubernetes_block_defaults_to_the_pod_token() {
        let found = login(
            serde_json::json!({ "kubernetes": { "role": "app", "mount": "k8s" } }),
            &[],
            false,
        )
        .expect("a login")
        .expect("a kubernetes login");
        assert_eq!(found.path(), "auth/k8s/login");
        match &found {
            Login::Kubernetes { jwt_file, .. } => assert_eq!(jwt_file, Path::new(DEFAULT_JWT_FILE)),
            other => panic!("{other:?}"),
        }
        let relative = login(
            serde_json::json!({ "kubernetes": { "role": "app", "jwt_file": "token" } }),
            &[],
            false,
        )
        .expect("a login")
        .expect("a kubernetes login");
        match relative {
            Login::Kubernetes { jwt_file, .. } => assert_eq!(jwt_file, Path::new("/config/token")),
            other => panic!("{other:?}"),
        }
        let error = found.body().expect_err("no such file");
        assert!(error.message.contains(DEFAULT_JWT_FILE), "{}", error.message);
    }

    #[test]
    fn an_approle_takes_exactly_one_secret_id_source() {
        let secret = login(
            serde_json::json!({ "approle": { "role_id": "r" } }),
            &[("approle.secret_id", "hidden-secret-id")],
            false,
        )
        .expect("a login")
        .expect("an approle login");
        assert_eq!(secret.body().expect("body")["secret_id"], "hidden-secret-id");
        let named = login(
            serde_json::json!({ "approle": { "role_id": "r", "secret_id_env": "CI_SECRET_ID" } }),
            &[],
            false,
        )
        .expect("a login")
        .expect("an approle login");
        assert_eq!(named.body().expect("body")["secret_id"], "from-env");
        let both = login(
            serde_json::json!({ "approle": { "role_id": "r", "secret_id_env": "CI_SECRET_ID" } }),
            &[("approle.secret_id", "s")],
            false,
        )
        .expect_err("both");
        assert!(both.contains("both"), "{both}");
        let neither = login(serde_json::json!({ "approle": { "role_id": "r" } }), &[], false).expect_err("unset");
        assert!(neither.contains(DEFAULT_SECRET_ID_ENV), "{neither}");
    }

    #[test]
    fn only_one_way_to_authenticate() {
        let two = login(
            serde_json::json!({ "jwt": { "role": "ci" }, "kubernetes": { "role": "app" } }),
            &[("jwt.jwt", "j")],
            false,
        )
        .expect_err("two blocks");
        assert!(two.contains("`jwt`, `kubernetes`"), "{two}");
        let with_token =
            login(serde_json::json!({ "kubernetes": { "role": "app" } }), &[], true).expect_err("token too");
        assert!(with_token.contains("`token`, `kubernetes`"), "{with_token}");
        assert!(login(serde_json::json!({}), &[], true).expect("token only").is_none());
    }
}
