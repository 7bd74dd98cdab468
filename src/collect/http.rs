//! The one HTTP client of a live run, and the connections it opens ahead
//! of need.
//!
//! Every service client, Region and account of a run shares this client's
//! connection pool (left to itself, each SDK client would build its own
//! pool, so an organization run would open new connections per account to
//! the same endpoint).
//!
//! Why open connections early: a new connection costs a TCP and a TLS
//! handshake, one to two round trips, before its first request can go out.
//! The collector's second round trip is a key's four reads at once; with
//! only the connection of the round trip before in the pool, three of them
//! would open new connections after DescribeClusters returns, so the
//! handshake would sit on the critical path. Instead, the first request to
//! a KMS endpoint opens up to three more connections beside it (never more
//! than `--concurrency` allows), whose handshakes overlap that first round
//! trip. ECS endpoints are not warmed: the first round trip already holds
//! two or more ECS connections (DescribeClusters beside the services'
//! reads), as many as a targeted run's later ECS reads need, and in a
//! fleet run the many ECS reads after ListClusters are bound by the
//! in-flight limit, not by one handshake.
//!
//! A warming request is `GET /` without credentials: no AWS action is
//! named, nothing is signed, nothing can change. Its answer (whatever the
//! endpoint says to an anonymous request) is read and dropped; only the
//! open connection is kept. It takes a place under the run's in-flight
//! limit, and only one that is free at that moment, so it never makes a
//! real request wait; if none is free, no connection is warmed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// Connections wanted per endpoint: the four reads of one key at once
/// (DescribeKey, GetKeyPolicy, ListGrants, GetKeyRotationStatus).
const PER_ENDPOINT: usize = 4;

/// A warming request that has not been answered by then is abandoned.
const WARM_TIMEOUT: Duration = Duration::from_secs(5);

/// The services whose endpoints are warmed (signing names, as in the
/// credential scope): KMS, where one key's four reads go out at once.
const WARMED: &[&str] = &["kms"];

/// The run's HTTP client: the SDK's default HTTPS client (rustls, proxy
/// settings from the environment) behind one shared pool, with warming.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: SharedHttpClient,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    /// The run's one in-flight limit (the collector's semaphore).
    limit: Arc<Semaphore>,
    /// Endpoints (scheme and authority) already warmed or being warmed.
    seen: Mutex<HashSet<String>>,
    /// Connections wanted per endpoint: at most the concurrency.
    wanted: usize,
}

impl Pool {
    /// A pool whose warming requests take places under `limit`, a
    /// semaphore of `concurrency` places.
    pub fn new(limit: Arc<Semaphore>, concurrency: usize) -> Self {
        Pool {
            inner: default_https_client(),
            state: Arc::new(State { limit, seen: Mutex::default(), wanted: PER_ENDPOINT.min(concurrency.max(1)) }),
        }
    }

    /// The client to give the SDK configuration.
    pub fn client(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }
}

/// What `aws-smithy-runtime` builds when no client is given (its
/// `default_https_client`), built once here so that every SDK client
/// shares it.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        // HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as the SDK's own default honours them.
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}

impl HttpClient for Pool {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(Warming {
            inner: self.inner.http_connector(settings, components),
            state: self.state.clone(),
        })
    }
}

/// A connector that warms an endpoint when it first sees a request to it.
#[derive(Debug)]
struct Warming {
    inner: SharedHttpConnector,
    state: Arc<State>,
}

impl HttpConnector for Warming {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if let Some(endpoint) = warmable(&request)
            && self.state.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(endpoint.clone())
        {
            self.warm(&endpoint);
        }
        self.inner.call(request)
    }
}

impl Warming {
    /// Opens up to `wanted - 1` more connections to `endpoint` (the request
    /// being sent opens one), each under a free place of the limit.
    fn warm(&self, endpoint: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let mut opened = 0;
        for _ in 1..self.state.wanted {
            let Ok(place) = self.state.limit.clone().try_acquire_owned() else { break };
            let Ok(request) = HttpRequest::get(format!("{endpoint}/")) else { return };
            let connector = self.inner.clone();
            opened += 1;
            runtime.spawn(async move {
                let _place = place;
                // The answer is read to its end so that the connection
                // goes back to the pool; what it says does not matter.
                if let Ok(Ok(response)) = tokio::time::timeout(WARM_TIMEOUT, connector.call(request)).await {
                    let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body());
                    let _ = tokio::time::timeout(WARM_TIMEOUT, body.collect()).await;
                }
            });
        }
        if opened > 0 {
            tracing::debug!(endpoint = %crate::render::text::visible(endpoint), connections = opened, "opening connections ahead of need");
        }
    }
}

/// The endpoint (`scheme://authority`) of a signed request to a warmed
/// service, from its URI and the service in its SigV4 credential scope.
fn warmable(request: &HttpRequest) -> Option<String> {
    let auth = request.headers().get("authorization")?;
    let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    // AKID/date/region/service/aws4_request
    let service = scope.split('/').nth(3)?;
    if !WARMED.contains(&service) {
        return None;
    }
    endpoint_of(request.uri())
}

/// `scheme://authority` of a URI, the key of the connection pool.
fn endpoint_of(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?']).next().filter(|a| !a.is_empty())?;
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(uri: &str, service: &str) -> HttpRequest {
        let mut r = HttpRequest::get(uri).unwrap();
        r.headers_mut().insert(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=EXAMPLEKEY/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
        );
        r
    }

    #[test]
    fn warms_kms_endpoints_only() {
        assert_eq!(
            warmable(&signed("https://kms.us-east-1.amazonaws.com/", "kms")).as_deref(),
            Some("https://kms.us-east-1.amazonaws.com")
        );
        assert_eq!(
            warmable(&signed("http://127.0.0.1:4566/path?x=1", "kms")).as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(warmable(&signed("https://ecs.us-east-1.amazonaws.com/", "ecs")), None);
        assert_eq!(warmable(&signed("https://sts.amazonaws.com/", "sts")), None);
        // Unsigned (a warming request itself): never warms again.
        assert_eq!(warmable(&HttpRequest::get("https://kms.us-east-1.amazonaws.com/").unwrap()), None);
    }

    #[test]
    fn endpoint_is_scheme_and_authority() {
        assert_eq!(
            endpoint_of("https://ecs.eu-west-1.amazonaws.com").as_deref(),
            Some("https://ecs.eu-west-1.amazonaws.com")
        );
        assert_eq!(endpoint_of("not a uri"), None);
        assert_eq!(endpoint_of("https:///path"), None);
    }
}
