//! Where webhooks may be sent: the guard against server-side request forgery. An endpoint URL
//! must be `https` and every address its host resolves to must be public (not private,
//! loopback, link-local, the instance metadata service, or any other special-purpose range of
//! the IANA registries). Locally, loopback addresses (and `http` to them) are allowed too, so a
//! receiver on the developer's machine works.
//!
//! The check runs at registration and again at delivery, where it is built into the HTTP
//! client's DNS resolution (`adapters::http_sender`'s resolver): the address checked is the address
//! connected to, so a name that re-resolves to an internal address between check and
//! connection (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ip_network::Ipv4Network;
use url::{Host, Url};

/// The longest endpoint URL accepted.
pub const MAX_URL_LENGTH: usize = 2048;
/// The variable that allows loopback destinations (set by the local server only).
pub const ALLOW_LOOPBACK_VAR: &str = "WEBHOOK_ALLOW_LOOPBACK";

/// The variable listing the ports webhooks may use besides 443 (`8443,9443`).
pub const ALLOWED_PORTS_VAR: &str = "WEBHOOK_ALLOWED_PORTS";
/// The one port a webhook may use unless the deployment allows others.
pub const WEBHOOK_PORT: u16 = 443;

/// Which destinations are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestinationPolicy {
    /// Local mode: loopback addresses are allowed, by `http` or `https`, on any port.
    pub allow_loopback: bool,
    /// Ports a webhook may use besides 443. Any other port is refused: deliveries report
    /// status, error and duration, so free ports would make us a port scanner.
    pub webhook_ports: &'static [u16],
}

impl DestinationPolicy {
    /// Deployed mode, unless `WEBHOOK_ALLOW_LOOPBACK=1`; `WEBHOOK_ALLOWED_PORTS` adds ports.
    /// Read once per cold start (the port list lives as long as the process).
    pub fn from_env() -> Result<Self, String> {
        let ports = std::env::var(ALLOWED_PORTS_VAR).unwrap_or_default();
        Ok(Self {
            allow_loopback: std::env::var(ALLOW_LOOPBACK_VAR).is_ok_and(|v| v == "1"),
            webhook_ports: Vec::leak(parse_ports(&ports)?),
        })
    }
}

/// A comma-separated list of ports; empty is none.
pub fn parse_ports(text: &str) -> Result<Vec<u16>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|port| !port.is_empty())
        .map(|port| match port.parse::<u16>() {
            Ok(port) if port > 0 => Ok(port),
            _ => Err(format!("{ALLOWED_PORTS_VAR}: {port:?} is not a port")),
        })
        .collect()
}

/// Why a destination is refused. The messages are shown to the endpoint's owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("must be an absolute URL")]
    NotAUrl,
    #[error("must be at most {MAX_URL_LENGTH} characters")]
    TooLong,
    #[error("must use https")]
    NotHttps,
    #[error("must not contain a user name or password")]
    HasCredentials,
    #[error("must not contain a fragment")]
    HasFragment,
    #[error("must name a host")]
    NoHost,
    /// Which address is not said: the owner of an endpoint learns nothing of our network's
    /// names from a refusal.
    #[error("resolves to an address that is not public")]
    NotPublic,
    #[error("the host does not resolve")]
    Unresolvable,
    #[error("must use port {WEBHOOK_PORT}")]
    PortNotAllowed,
}

/// Parses an endpoint URL and checks what can be checked without DNS.
pub fn parse_url(text: &str, policy: DestinationPolicy) -> Result<Url, DestinationError> {
    if text.len() > MAX_URL_LENGTH {
        return Err(DestinationError::TooLong);
    }
    let url = Url::parse(text).map_err(|_| DestinationError::NotAUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DestinationError::HasCredentials);
    }
    if url.fragment().is_some() {
        return Err(DestinationError::HasFragment);
    }
    let loopback = match url.host() {
        None => return Err(DestinationError::NoHost),
        Some(Host::Ipv4(ip)) => {
            check_ip(IpAddr::V4(ip), policy)?;
            ip.is_loopback()
        }
        Some(Host::Ipv6(ip)) => {
            check_ip(IpAddr::V6(ip), policy)?;
            ip.is_loopback()
        }
        Some(Host::Domain(name)) => policy.allow_loopback && is_localhost(name),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(DestinationError::NotHttps),
    }
}

/// Checks a webhook URL completely: its form, its port, then every address its host
/// resolves to.
pub async fn check_url(text: &str, policy: DestinationPolicy) -> Result<Url, DestinationError> {
    let url = parse_url(text, policy)?;
    check_webhook_port(&url, policy)?;
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        resolve(name, port, policy).await?;
    }
    Ok(url)
}

/// Whether a webhook may be sent to `url`'s port: 443, a port the deployment allows, or in
/// local mode any port of a loopback host (the developer's receivers). Chain nodes are not
/// held to it: their `rpc_url` commonly names a port such as 8545.
pub fn check_webhook_port(url: &Url, policy: DestinationPolicy) -> Result<(), DestinationError> {
    let port = url.port_or_known_default();
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => is_localhost(name),
        None => false,
    };
    let allowed = port == Some(WEBHOOK_PORT)
        || port.is_some_and(|port| policy.webhook_ports.contains(&port))
        || (policy.allow_loopback && loopback);
    if allowed {
        Ok(())
    } else {
        Err(DestinationError::PortNotAllowed)
    }
}

/// Resolves `name` and returns its addresses if every one is allowed. One internal address
/// refuses the name: a client could otherwise be steered to it.
pub async fn resolve(
    name: &str,
    port: u16,
    policy: DestinationPolicy,
) -> Result<Vec<SocketAddr>, DestinationError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|_| DestinationError::Unresolvable)?
        .collect();
    if addresses.is_empty() {
        return Err(DestinationError::Unresolvable);
    }
    for address in &addresses {
        check_ip(address.ip(), policy)?;
    }
    Ok(addresses)
}

/// Whether `ip` may be sent to.
pub fn check_ip(ip: IpAddr, policy: DestinationPolicy) -> Result<(), DestinationError> {
    let allowed = match ip {
        IpAddr::V4(v4) => v4_allowed(v4, policy),
        IpAddr::V6(v6) => match ipv4_reached_by(v6) {
            Some(v4) => v4_allowed(v4, policy),
            None => (policy.allow_loopback && v6.is_loopback()) || v6_global_unicast(v6),
        },
    };
    if allowed {
        Ok(())
    } else {
        Err(DestinationError::NotPublic)
    }
}

fn v4_allowed(ip: Ipv4Addr, policy: DestinationPolicy) -> bool {
    (policy.allow_loopback && ip.is_loopback())
        || (!ip.is_multicast() && Ipv4Network::from(ip).is_global())
}

/// Global unicast (2000::/3, RFC 4291) and nothing else: every other IPv6 range is special
/// (loopback, IPv4-compatible `::a.b.c.d`, discard-only `100::/64`, local-use NAT64
/// `64:ff9b:1::/48`, unique-local, link-local, multicast...). Inside 2000::/3 the IETF
/// protocol assignments (`2001::/23`, Teredo among them), documentation (`2001:db8::/32`,
/// `3fff::/20`) and 6to4 (`2002::/16`) are refused too: Teredo and 6to4 embed an IPv4
/// address that a relay we do not control would reach, internal or not, so they are refused
/// whatever they embed rather than decoded.
fn v6_global_unicast(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let refused = [
        (0x2001, 0x0000, 23),
        (0x2001, 0x0db8, 32),
        (0x2002, 0x0000, 16),
        (0x3fff, 0x0000, 20),
    ];
    first & 0xe000 == 0x2000
        && !refused.iter().any(|&(a, b, prefix)| {
            let head = (u32::from(first) << 16) | u32::from(second);
            let mask = u32::MAX << (32 - prefix);
            head & mask == ((a << 16) | b) & mask
        })
}

/// The IPv4 address an IPv6 one reaches directly: IPv4-mapped (`::ffff:a.b.c.d`), which a
/// dual-stack socket connects to over IPv4, and the well-known NAT64 prefix
/// (`64:ff9b::/96`, RFC 6052), which a NAT64 gateway translates to exactly that address.
/// The address is then held to the IPv4 rules.
fn ipv4_reached_by(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYED: DestinationPolicy = DestinationPolicy {
        allow_loopback: false,
        webhook_ports: &[],
    };
    const LOCAL: DestinationPolicy = DestinationPolicy {
        allow_loopback: true,
        webhook_ports: &[],
    };

    #[test]
    fn internal_addresses_are_refused_in_deployed_mode() {
        for url in [
            "https://127.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.8/",
            "https://172.16.3.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[64:ff9b::a00:1]/",
            "https://224.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
        ] {
            assert!(
                matches!(parse_url(url, DEPLOYED), Err(DestinationError::NotPublic)),
                "{url} was not refused"
            );
        }
    }

    #[test]
    fn ipv6_forms_that_tunnel_or_translate_are_refused_whatever_they_embed() {
        // Outside 2000::/3, or the 6to4, Teredo and IETF-protocol parts of it: each embeds an
        // IPv4 address that a relay or translator we do not control may reach, so none is
        // decoded into an allowed one (the embedded 8.8.8.8 is refused like 127.0.0.1).
        for host in [
            "::7f00:1",
            "::a9fe:a9fe",
            "::808:808",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001::f7f7:f7f7",
            "2001:2::1",
            "64:ff9b:1::a00:1",
            "64:ff9b:1::808:808",
            "100::1",
            "100::7f00:1",
            "2001:db8::1",
            "3fff::1",
            "4000::1",
            "fc00::1",
        ] {
            for policy in [DEPLOYED, LOCAL] {
                let url = format!("https://[{host}]/");
                assert!(
                    matches!(parse_url(&url, policy), Err(DestinationError::NotPublic)),
                    "{url} in {policy:?}"
                );
            }
        }
    }

    #[test]
    fn ipv6_forms_that_reach_ipv4_directly_follow_the_ipv4_rules() {
        for refused in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let url = format!("https://[{refused}]/");
            assert!(
                matches!(parse_url(&url, DEPLOYED), Err(DestinationError::NotPublic)),
                "{url}"
            );
        }
        for allowed in ["::ffff:8.8.8.8", "64:ff9b::808:808", "2001:4860:4860::8888"] {
            let url = format!("https://[{allowed}]/");
            assert!(parse_url(&url, DEPLOYED).is_ok(), "{url}");
        }
    }

    #[test]
    fn a_refusal_does_not_say_what_the_name_resolved_to() {
        let refusal = parse_url("https://10.1.2.3/", DEPLOYED).unwrap_err();
        assert!(!refusal.to_string().contains("10.1.2.3"), "{refusal}");
        assert!(!format!("{refusal:?}").contains("10.1.2.3"), "{refusal:?}");
    }

    #[tokio::test]
    async fn webhooks_use_port_443_unless_the_deployment_allows_others() {
        for url in [
            "https://8.8.8.8:8443/",
            "https://8.8.8.8:22/",
            "https://8.8.8.8:80/",
        ] {
            assert_eq!(
                check_url(url, DEPLOYED).await,
                Err(DestinationError::PortNotAllowed),
                "{url}"
            );
            assert_eq!(
                check_url(url, LOCAL).await,
                Err(DestinationError::PortNotAllowed),
                "{url}"
            );
        }
        for url in ["https://8.8.8.8/", "https://8.8.8.8:443/"] {
            assert!(check_url(url, DEPLOYED).await.is_ok(), "{url}");
        }
        let allowing = DestinationPolicy {
            webhook_ports: &[8443],
            ..DEPLOYED
        };
        assert!(check_url("https://8.8.8.8:8443/", allowing).await.is_ok());
        assert_eq!(
            check_url("https://8.8.8.8:8444/", allowing).await,
            Err(DestinationError::PortNotAllowed)
        );
        // Locally, the developer's receivers listen on any loopback port.
        for url in [
            "http://127.0.0.1:9000/",
            "http://[::1]:9000/",
            "http://localhost:9000/",
        ] {
            assert!(check_url(url, LOCAL).await.is_ok(), "{url}");
        }
    }

    #[test]
    fn allowed_ports_parse_from_a_list() {
        assert_eq!(parse_ports(""), Ok(vec![]));
        assert_eq!(parse_ports("8443, 9443"), Ok(vec![8443, 9443]));
        assert!(parse_ports("8443,https").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn public_https_urls_are_accepted() {
        for url in [
            "https://8.8.8.8/hooks",
            "https://[2606:4700::1111]/",
            "https://hooks.example.com/in?x=1",
        ] {
            assert!(parse_url(url, DEPLOYED).is_ok(), "{url}");
        }
    }

    #[test]
    fn only_https_except_to_loopback_in_local_mode() {
        assert_eq!(
            parse_url("http://8.8.8.8/", LOCAL),
            Err(DestinationError::NotHttps)
        );
        assert!(matches!(
            parse_url("http://127.0.0.1:9000/", DEPLOYED),
            Err(DestinationError::NotPublic)
        ));
        assert!(parse_url("http://127.0.0.1:9000/", LOCAL).is_ok());
        assert!(parse_url("http://localhost:9000/", LOCAL).is_ok());
        assert!(parse_url("http://[::1]:9000/", LOCAL).is_ok());
        assert!(matches!(
            parse_url("http://10.0.0.1/", LOCAL),
            Err(DestinationError::NotPublic)
        ));
        assert_eq!(
            parse_url("ftp://8.8.8.8/", DEPLOYED),
            Err(DestinationError::NotHttps)
        );
    }

    #[test]
    fn malformed_urls_are_refused() {
        assert_eq!(parse_url("hooks", DEPLOYED), Err(DestinationError::NotAUrl));
        assert_eq!(
            parse_url("https://user:pw@8.8.8.8/", DEPLOYED),
            Err(DestinationError::HasCredentials)
        );
        assert_eq!(
            parse_url("https://8.8.8.8/#x", DEPLOYED),
            Err(DestinationError::HasFragment)
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LENGTH));
        assert_eq!(parse_url(&long, DEPLOYED), Err(DestinationError::TooLong));
    }

    #[tokio::test]
    async fn names_that_resolve_to_loopback_are_refused_in_deployed_mode() {
        assert!(matches!(
            check_url("https://localhost/hook", DEPLOYED).await,
            Err(DestinationError::NotPublic)
        ));
        assert!(check_url("http://localhost:1/hook", LOCAL).await.is_ok());
    }
}
