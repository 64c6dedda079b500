//! The body of `POST /v1/webhooks` (registering an endpoint), read through the API's edge and
//! parsed by `webhooks::endpoint::parse_new_endpoint` under the deployed and the local
//! destination policies (the DNS half of the check is not fuzzed: it needs the network).
//!
//! Asserts: never panics; a rejection names at least one field; an accepted endpoint lists
//! 1 to 5 distinct event types; its normalised URL passes the same check again (as
//! registration and then every delivery check it), except for being too long once
//! normalised (IDNA and percent-encoding lengthen a URL; registration then refuses it); that
//! URL is https when deployed (http only to loopback locally), carries no credentials or
//! fragment, and is a fixed point: registering it again gives the same endpoint; the local
//! policy accepts everything the deployed one does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use shared::domain::events::EventType;
use shared::domain::webhooks::destination::{
    self, DestinationError, DestinationPolicy, MAX_URL_LENGTH,
};
use shared::domain::webhooks::endpoint::parse_new_endpoint;

const DEPLOYED: DestinationPolicy = DestinationPolicy {
    allow_loopback: false,
    webhook_ports: &[],
};
const LOCAL: DestinationPolicy = DestinationPolicy {
    allow_loopback: true,
    webhook_ports: &[],
};

fuzz_target!(|data: &[u8]| {
    let Some(body) = shared_fuzz::api_body("/v1/webhooks", data) else {
        return;
    };
    let deployed = parse_new_endpoint(&body, DEPLOYED);
    let local = parse_new_endpoint(&body, LOCAL);
    if deployed.is_ok() {
        assert_eq!(deployed, local, "local refuses what deployed accepts");
    }
    for (policy, parsed) in [(DEPLOYED, deployed), (LOCAL, local)] {
        let endpoint = match parsed {
            Ok(endpoint) => endpoint,
            Err(errors) => {
                assert!(!errors.is_empty(), "rejected without a reason: {body}");
                continue;
            }
        };
        assert!((1..=EventType::ALL.len()).contains(&endpoint.events.len()));
        for (index, kind) in endpoint.events.iter().enumerate() {
            assert!(!endpoint.events[..index].contains(kind), "{kind} twice");
        }
        // Registration checks the normalised URL again (`check_url`, whose DNS half is left
        // out here) before it stores it; delivery checks the stored URL once more.
        let url = match destination::parse_url(&endpoint.url, policy) {
            Ok(url) => url,
            // Normalising can lengthen a URL (IDNA, percent-encoding): the second check
            // refuses it, so nothing longer than the limit is stored.
            Err(DestinationError::TooLong) if endpoint.url.len() > MAX_URL_LENGTH => continue,
            Err(error) => panic!("normalised URL {:?} refused: {error}", endpoint.url),
        };
        assert_eq!(
            url.as_str(),
            endpoint.url,
            "the stored URL is not canonical"
        );
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.fragment().is_none());
        if !policy.allow_loopback {
            assert_eq!(url.scheme(), "https");
        }
        let again = parse_new_endpoint(
            &json!({"url": endpoint.url, "events": endpoint.events}),
            policy,
        );
        assert_eq!(again.as_ref(), Ok(&endpoint));
    }
});
