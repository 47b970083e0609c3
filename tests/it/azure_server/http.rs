//! The server's view of one HTTP exchange: the request a handler reads (host, path, query, headers, body) and the
//! reply it builds, including the JSON error body every Azure REST API uses:
//! `{"error":{"code":..., "message":..., "innererror":{"code":...}}}`.

use hyper::body::Bytes;
use serde_json::{Value, json};

/// One request as the routes see it. `host` is lowercase and without a port.
pub struct Request {
    pub method: hyper::Method,
    pub host: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Request {
    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The `api-version` query parameter when it is one of `accepted`; otherwise `Err(None)` when it is missing and
    /// `Err(Some(version))` when it names another version. Each service words its own refusal.
    pub fn api_version(&self, accepted: &[&str]) -> Result<&str, Option<&str>> {
        match self.query_value("api-version") {
            Some(version) if accepted.contains(&version) => Ok(version),
            other => Err(other),
        }
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The non-empty path segments: Key Vault clients sometimes send `//secrets` or a trailing `/`.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|segment| !segment.is_empty()).collect()
    }

    /// The body as a JSON object; `None` when it is missing or not an object.
    pub fn json_object(&self) -> Option<serde_json::Map<String, Value>> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(object)) => Some(object),
            _ => None,
        }
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

/// What a handler answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".to_string(),
                "application/json; charset=utf-8".to_string(),
            )],
            body: value.to_string().into_bytes(),
        }
    }

    /// A reply without a body.
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The Azure error body `{"error":{"code":..., "message":...}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, json!({"error": {"code": code, "message": message}}))
    }

    /// The Azure error body with an `innererror` code, as Key Vault sends for soft-delete conflicts.
    pub fn error_with_inner(status: u16, code: &str, message: &str, inner_code: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": code, "message": message, "innererror": {"code": inner_code}}}),
        )
    }
}
