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

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ip_network::{Ipv4Network, Ipv6Network};
use url::{Host, Url};

/// The longest endpoint URL accepted.
pub const MAX_URL_LENGTH: usize = 2048;
/// The variable that allows loopback destinations (set by the local server only).
pub const ALLOW_LOOPBACK_VAR: &str = "WEBHOOK_ALLOW_LOOPBACK";

/// Which destinations are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestinationPolicy {
    /// Local mode: loopback addresses are allowed, by `http` or `https`.
    pub allow_loopback: bool,
}

impl DestinationPolicy {
    /// Deployed mode, unless `WEBHOOK_ALLOW_LOOPBACK=1`.
    pub fn from_env() -> Self {
        Self {
            allow_loopback: std::env::var(ALLOW_LOOPBACK_VAR).is_ok_and(|v| v == "1"),
        }
    }
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
    #[error("resolves to {0}, which is not a public address")]
    NotPublic(IpAddr),
    #[error("the host does not resolve")]
    Unresolvable,
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

/// Checks a URL completely: its form, then every address its host resolves to.
pub async fn check_url(text: &str, policy: DestinationPolicy) -> Result<Url, DestinationError> {
    let url = parse_url(text, policy)?;
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        resolve(name, port, policy).await?;
    }
    Ok(url)
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
    let allowed = match embedded_ipv4(ip) {
        Some(v4) => v4_allowed(v4, policy),
        None => match ip {
            IpAddr::V4(v4) => v4_allowed(v4, policy),
            IpAddr::V6(v6) => {
                (policy.allow_loopback && v6.is_loopback())
                    || (!v6.is_multicast() && Ipv6Network::from(v6).is_global())
            }
        },
    };
    if allowed {
        Ok(())
    } else {
        Err(DestinationError::NotPublic(ip))
    }
}

fn v4_allowed(ip: Ipv4Addr, policy: DestinationPolicy) -> bool {
    (policy.allow_loopback && ip.is_loopback())
        || (!ip.is_multicast() && Ipv4Network::from(ip).is_global())
}

/// The IPv4 address inside an IPv6 one that reaches it: IPv4-mapped (`::ffff:a.b.c.d`) and
/// the NAT64 prefix (`64:ff9b::/96`), both of which a dual-stack host routes to IPv4.
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
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
    };
    const LOCAL: DestinationPolicy = DestinationPolicy {
        allow_loopback: true,
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
                matches!(
                    parse_url(url, DEPLOYED),
                    Err(DestinationError::NotPublic(_))
                ),
                "{url} was not refused"
            );
        }
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
        assert_eq!(
            parse_url("http://127.0.0.1:9000/", DEPLOYED),
            Err(DestinationError::NotPublic("127.0.0.1".parse().unwrap()))
        );
        assert!(parse_url("http://127.0.0.1:9000/", LOCAL).is_ok());
        assert!(parse_url("http://localhost:9000/", LOCAL).is_ok());
        assert!(parse_url("http://[::1]:9000/", LOCAL).is_ok());
        assert_eq!(
            parse_url("http://10.0.0.1/", LOCAL),
            Err(DestinationError::NotPublic("10.0.0.1".parse().unwrap()))
        );
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
            Err(DestinationError::NotPublic(ip)) if ip.is_loopback()
        ));
        assert!(check_url("http://localhost:1/hook", LOCAL).await.is_ok());
    }
}
