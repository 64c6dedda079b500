//! One TLS stack for every outgoing connection, the SDK's and the webhook deliveries': rustls
//! with ring as its crypto provider.
//!
//! The SDK's default client uses rustls on aws-lc-rs, a C library that weighs on every
//! function's zip (Lambda's cold start grows with it). Ring is far smaller. The trade: ring has
//! no FIPS mode and no post-quantum hybrid key exchange, so connections use TLS 1.3 with
//! classical X25519, as the SDK did before aws-lc-rs became its default. A deployment that
//! needs either changes the provider here, in one place.

use aws_smithy_http_client::tls;

/// Makes ring the process's rustls provider, which reqwest (built without a provider of its
/// own) requires before any client is built. Idempotent: later calls find it installed.
pub fn install_crypto_provider() {
    // An error means a provider is installed already: the one this function installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTPS client the SDK uses: its hyper stack with rustls on ring.
pub fn sdk_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// A reqwest client builder that can be built: the crypto provider is installed first.
pub fn reqwest_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reqwest_client_builds_after_the_provider_is_installed() {
        // Without a provider, reqwest built with `rustls-no-provider` panics on build.
        assert!(reqwest_builder().build().is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
