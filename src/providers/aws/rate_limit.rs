//! Client-side pacing of AWS calls, one pace per operation family, sized to
//! AWS's published request quotas, so a bootstrap of a thousand keys is paced
//! by keyform instead of throttled by AWS.
//!
//! A family is one AWS API operation (`CreateKey`, `PutKeyPolicy`,
//! `CreateSecret`, ...), named as AWS names it. Each family is paced on its
//! own: calls of one family are spaced `1 / rate` seconds apart, starting
//! with the first call at once (no burst), so no one-second window ever holds
//! more calls than the quota. Families never wait on each other.
//!
//! The defaults (`DEFAULT_RATES`) are AWS's default quotas. The provider
//! block overrides them with `rate_limits = { CreateKey = "20" }` (calls per
//! second; `"*"` sets every family not named otherwise), read by
//! [`RateLimits::from_block`].
//!
//! **Every request the provider's SDK clients send is paced here without any
//! call at the call site**: [`paced_http_client`] wraps the SDK's HTTP client
//! and, before each request (including the SDK's own retry attempts), waits
//! for the family named in the request's `X-Amz-Target` header (the JSON
//! protocol of KMS and Secrets Manager: `TrentService.CreateKey`,
//! `secretsmanager.CreateSecret`). A resource file whose client is built from
//! [`super::client::sdk_config`] is paced already and must not call
//! [`RateLimits::acquire`] again (that would halve its rate). `acquire` is for
//! work that does not go through those clients: `limits.acquire("CreateKey").await`.
//!
//! Waiting uses tokio's clock, so tests under `tokio::time::pause()` run in
//! virtual time.

use crate::provider::{Attributes, ProviderError};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// AWS's default request quota (calls per second) of each operation keyform
/// uses, from the KMS and Secrets Manager quota tables.
const DEFAULT_RATES: &[(&str, f64)] = &[
    // KMS: keys.
    ("CreateKey", 5.0),
    ("DescribeKey", 2000.0),
    ("ListKeys", 500.0),
    ("UpdateKeyDescription", 5.0),
    ("EnableKey", 5.0),
    ("DisableKey", 5.0),
    ("ScheduleKeyDeletion", 15.0),
    ("CancelKeyDeletion", 5.0),
    ("GetKeyPolicy", 1000.0),
    ("PutKeyPolicy", 15.0),
    ("GetKeyRotationStatus", 1000.0),
    ("EnableKeyRotation", 15.0),
    ("DisableKeyRotation", 5.0),
    ("RotateKeyOnDemand", 5.0),
    ("ListKeyRotations", 100.0),
    ("ListResourceTags", 2000.0),
    ("TagResource", 10.0),
    ("UntagResource", 5.0),
    // KMS: aliases.
    ("CreateAlias", 5.0),
    ("UpdateAlias", 5.0),
    ("DeleteAlias", 15.0),
    ("ListAliases", 500.0),
    // KMS: grants.
    ("CreateGrant", 50.0),
    ("ListGrants", 100.0),
    ("RetireGrant", 30.0),
    ("RevokeGrant", 30.0),
    // Secrets Manager.
    ("CreateSecret", 50.0),
    ("DescribeSecret", 10000.0),
    ("GetSecretValue", 10000.0),
    ("PutSecretValue", 50.0),
    ("UpdateSecret", 50.0),
    ("DeleteSecret", 50.0),
    ("RestoreSecret", 50.0),
    ("RotateSecret", 50.0),
    ("CancelRotateSecret", 50.0),
    ("ListSecrets", 100.0),
    ("ListSecretVersionIds", 50.0),
    ("GetResourcePolicy", 50.0),
    ("PutResourcePolicy", 50.0),
    ("DeleteResourcePolicy", 50.0),
];

/// The provider-block attribute that overrides the defaults.
pub const ATTRIBUTE: &str = "rate_limits";

/// The key of `rate_limits` that sets every family not named otherwise.
const EVERY_FAMILY: &str = "*";

/// The pace of one family: the earliest time its next call may go.
#[derive(Debug)]
struct Pace {
    /// Calls per second.
    rate: f64,
    interval: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl Pace {
    fn new(rate: f64) -> Pace {
        Pace {
            rate,
            interval: Duration::from_secs_f64(1.0 / rate),
            next_free: Mutex::new(None),
        }
    }

    /// Reserves the next free slot and waits for it.
    async fn acquire(&self, family: &str) {
        let now = Instant::now();
        let slot = {
            let mut next_free = self.next_free.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = next_free.map_or(now, |free| free.max(now));
            *next_free = Some(slot + self.interval);
            slot
        };
        if slot > now {
            tracing::debug!(
                family,
                rate = self.rate,
                wait_milliseconds = (slot - now).as_millis(),
                "pacing an AWS call"
            );
            tokio::time::sleep_until(slot).await;
        }
    }
}

/// The paces of every family; clones share them.
#[derive(Debug, Clone)]
pub struct RateLimits {
    paces: Arc<HashMap<&'static str, Pace>>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::with_overrides(&HashMap::new(), None)
    }
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new("InvalidProviderConfiguration", message)
}

impl RateLimits {
    fn with_overrides(overrides: &HashMap<&'static str, f64>, every: Option<f64>) -> RateLimits {
        let paces = DEFAULT_RATES
            .iter()
            .map(|(name, rate)| {
                let rate = overrides.get(name).copied().or(every).unwrap_or(*rate);
                (*name, Pace::new(rate))
            })
            .collect();
        RateLimits { paces: Arc::new(paces) }
    }

    /// The defaults with the overrides of the provider block's `rate_limits`.
    pub fn from_block(attributes: &Attributes) -> Result<RateLimits, ProviderError> {
        let entries = match attributes.get(ATTRIBUTE) {
            None | Some(serde_json::Value::Null) => return Ok(RateLimits::default()),
            Some(serde_json::Value::Object(entries)) => entries,
            Some(other) => {
                return Err(invalid(format!(
                    "{ATTRIBUTE} must be a map from operation to calls per second, not {other}"
                )));
            }
        };
        let mut overrides = HashMap::new();
        let mut every = None;
        for (family, value) in entries {
            let rate = parse_rate(family, value)?;
            if family == EVERY_FAMILY {
                every = Some(rate);
                continue;
            }
            let Some((name, _)) = DEFAULT_RATES.iter().find(|(name, _)| *name == family) else {
                let names = DEFAULT_RATES.iter().map(|(name, _)| *name);
                let help = match crate::diag::did_you_mean(family, names) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "name an AWS operation keyform calls ({}), or \"*\" for all of them",
                        DEFAULT_RATES
                            .iter()
                            .map(|(name, _)| *name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(invalid(format!(
                    "{ATTRIBUTE} names `{family}`, which is not an operation keyform paces"
                ))
                .with_help(help));
            };
            overrides.insert(*name, rate);
        }
        Ok(RateLimits::with_overrides(&overrides, every))
    }

    /// The calls per second a family is paced at; None when it is not paced.
    #[cfg(test)]
    pub fn rate(&self, family: &str) -> Option<f64> {
        self.paces.get(family).map(|pace| pace.rate)
    }

    /// Waits until a call of `family` may go. A family keyform does not pace goes at once.
    pub async fn acquire(&self, family: &str) {
        if let Some(pace) = self.paces.get(family) {
            pace.acquire(family).await;
        }
    }
}

fn parse_rate(family: &str, value: &serde_json::Value) -> Result<f64, ProviderError> {
    let parsed = match value {
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok(),
        serde_json::Value::Number(number) => number.as_f64(),
        _ => None,
    };
    parsed
        .filter(|rate| rate.is_finite() && *rate > 0.0 && *rate <= 1_000_000.0)
        .ok_or_else(|| {
            invalid(format!(
                "{ATTRIBUTE}[\"{family}\"] must be a number of calls per second above 0, not {value}"
            ))
            .with_help("for example rate_limits = { CreateKey = \"20\" }; fractions such as \"0.5\" pace one call every two seconds")
        })
}

/// The operation a request of the AWS JSON protocol calls: `TrentService.CreateKey` → `CreateKey`.
pub fn operation_of(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|target| target.rsplit('.').next())
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxy settings from the
/// environment), paced by `limits`: what [`super::client::sdk_config`] gives every client.
pub fn paced_default_http_client(limits: RateLimits) -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    paced_http_client(inner, limits)
}

/// Wraps an SDK HTTP client so every request waits for its family's pace first.
pub fn paced_http_client(inner: SharedHttpClient, limits: RateLimits) -> SharedHttpClient {
    SharedHttpClient::new(PacedHttpClient { inner, limits })
}

#[derive(Debug)]
struct PacedHttpClient {
    inner: SharedHttpClient,
    limits: RateLimits,
}

impl HttpClient for PacedHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            limits: self.limits.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    limits: RateLimits,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limits = self.limits.clone();
        HttpConnectorFuture::new(async move {
            if let Some(family) = operation_of(&request).map(str::to_string) {
                limits.acquire(&family).await;
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimits;
    use std::time::Duration;
    use tokio::time::Instant;

    fn block(json: serde_json::Value) -> crate::provider::Attributes {
        let mut attributes = serde_json::Map::new();
        attributes.insert(super::ATTRIBUTE.into(), json);
        attributes
    }

    /// When each of `count` concurrent acquisitions of `family` got through, from the start.
    async fn finish_times(limits: &RateLimits, family: &'static str, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = (0..count)
            .map(|_| {
                let limits = limits.clone();
                tokio::spawn(async move {
                    limits.acquire(family).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.expect("the task ran"));
        }
        times.sort();
        times
    }

    #[tokio::test(start_paused = true)]
    async fn twelve_create_keys_at_five_per_second_take_two_point_two_seconds() {
        let limits = RateLimits::default();
        assert_eq!(limits.rate("CreateKey"), Some(5.0));
        let times = finish_times(&limits, "CreateKey", 12).await;
        let expected: Vec<Duration> = (0..12).map(|slot| Duration::from_millis(200 * slot)).collect();
        assert_eq!(times, expected, "one call at once, then one every 200 ms");
        // Never more than five in any one-second window.
        for (index, time) in times.iter().enumerate() {
            let in_window = times[index..]
                .iter()
                .filter(|later| **later < *time + Duration::from_secs(1))
                .count();
            assert!(in_window <= 5, "{in_window} calls within a second of {time:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn families_do_not_wait_on_each_other() {
        let limits = RateLimits::default();
        let start = Instant::now();
        for _ in 0..3 {
            limits.acquire("CreateKey").await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        // CreateGrant (50/s) has its own pace: its first call goes at once.
        let grant_start = Instant::now();
        limits.acquire("CreateGrant").await;
        assert_eq!(grant_start.elapsed(), Duration::ZERO);
        limits.acquire("CreateGrant").await;
        assert_eq!(grant_start.elapsed(), Duration::from_millis(20));
        // An operation keyform does not pace never waits.
        let other_start = Instant::now();
        for _ in 0..100 {
            limits.acquire("AssumeRole").await;
        }
        assert_eq!(other_start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_override_applies() {
        let limits = RateLimits::from_block(&block(serde_json::json!({ "CreateKey": "20", "*": "1000" })))
            .expect("valid overrides");
        assert_eq!(limits.rate("CreateKey"), Some(20.0));
        assert_eq!(limits.rate("PutKeyPolicy"), Some(1000.0));
        let times = finish_times(&limits, "CreateKey", 12).await;
        assert_eq!(times.last().copied(), Some(Duration::from_millis(550)));
        let defaults = RateLimits::from_block(&serde_json::Map::new()).expect("no overrides");
        assert_eq!(defaults.rate("PutKeyPolicy"), Some(15.0));
        assert_eq!(defaults.rate("EnableKeyRotation"), Some(15.0));
        assert_eq!(defaults.rate("CreateGrant"), Some(50.0));
        assert_eq!(defaults.rate("CreateAlias"), Some(5.0));
    }

    /// The SDK's own requests carry the operation, so the HTTP client paces them with no call-site code.
    #[tokio::test(start_paused = true)]
    async fn the_sdk_client_is_paced_by_operation() {
        use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
        use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
        use aws_smithy_types::body::SdkBody;
        let created = serde_json::json!({ "KeyMetadata": { "KeyId": "k" } }).to_string();
        let events = (0..6)
            .map(|_| {
                ReplayEvent::new(
                    http::Request::builder()
                        .uri("https://kms.us-east-1.amazonaws.com/")
                        .body(SdkBody::empty())
                        .expect("a request"),
                    http::Response::builder()
                        .status(200)
                        .body(SdkBody::from(created.clone()))
                        .expect("a response"),
                )
            })
            .collect();
        let replay = StaticReplayClient::new(events);
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "pacing-tests"))
            .http_client(super::paced_http_client(
                SharedHttpClient::new(replay.clone()),
                RateLimits::default(),
            ))
            .build();
        let kms = aws_sdk_kms::Client::from_conf(config);
        let start = Instant::now();
        for _ in 0..6 {
            kms.create_key().send().await.expect("CreateKey");
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(1000),
            "six CreateKey calls at 5 per second"
        );
        let operations: Vec<&str> = replay.actual_requests().filter_map(super::operation_of).collect();
        assert_eq!(operations, ["CreateKey"; 6]);
    }

    #[test]
    fn bad_overrides_are_refused_clearly() {
        for (value, expected) in [
            (
                serde_json::json!({ "CreateKey": "fast" }),
                "must be a number of calls per second above 0",
            ),
            (serde_json::json!({ "CreateKey": "0" }), "above 0"),
            (serde_json::json!({ "CreateKey": "-3" }), "above 0"),
            (serde_json::json!({ "CreateKy": "3" }), "`CreateKy`"),
            (serde_json::json!("20"), "must be a map"),
        ] {
            let error = RateLimits::from_block(&block(value.clone())).expect_err("refused");
            assert_eq!(error.code, "InvalidProviderConfiguration");
            assert!(error.message.contains(expected), "{value}: {}", error.message);
        }
        let misspelt = RateLimits::from_block(&block(serde_json::json!({ "CreateKy": "3" }))).expect_err("refused");
        assert_eq!(misspelt.help.as_deref(), Some("did you mean `CreateKey`?"));
    }
}
