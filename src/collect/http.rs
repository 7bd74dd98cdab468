//! The one HTTP client of a live run.
//!
//! Every service client, Region and account of a run shares this client,
//! and so its connection pool. Left to itself, each SDK client builds its
//! own client and pool: the clients of one Region's KMS endpoint in an
//! organization run would each open their own connections, and every new
//! connection costs a TCP and a TLS handshake (one to two round trips)
//! before its first request. Shared, a connection opened by any request is
//! there for the next one to the same endpoint, whichever account asks.
//! (Connections for a key's reads are also opened early, by the collector:
//! see `kms::warm`.)

use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// What `aws-smithy-runtime` builds when no client is given (its
/// `default_https_client`: rustls with the system's root certificates,
/// proxy settings from the environment), built once for the whole run.
pub fn shared_client() -> SharedHttpClient {
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
