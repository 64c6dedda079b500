//! Where the local server may listen. Local mode sends webhooks to loopback addresses (the
//! developer's receivers), so a server reachable from the network would let anyone on it
//! register a webhook into the developer's machine: it listens on loopback unless told
//! otherwise, explicitly.

use std::net::SocketAddr;

/// Set to `1` to listen on an address that is not loopback, knowingly.
pub const ALLOW_NON_LOOPBACK_VAR: &str = "LOCAL_ALLOW_NON_LOOPBACK_LISTEN";

/// Why the server refuses to listen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "LISTEN_ADDR {0} is not a loopback address: local mode sends webhooks to loopback \
     addresses, so anyone who can reach the server could make it call services on this \
     machine. Listen on 127.0.0.1 or [::1], or set {ALLOW_NON_LOOPBACK_VAR}=1 to accept that"
)]
pub struct NotLoopback(pub SocketAddr);

/// Whether the server may listen on `addr` (`allow_non_loopback`: the override is set).
pub fn check_listen_addr(addr: SocketAddr, allow_non_loopback: bool) -> Result<(), NotLoopback> {
    if addr.ip().is_loopback() || allow_non_loopback {
        Ok(())
    } else {
        Err(NotLoopback(addr))
    }
}

/// The override, from the environment.
pub fn non_loopback_allowed() -> bool {
    std::env::var(ALLOW_NON_LOOPBACK_VAR).is_ok_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_overridden() {
        for addr in ["127.0.0.1:3000", "[::1]:3000", "127.0.0.2:3000"] {
            assert_eq!(
                check_listen_addr(addr.parse().unwrap(), false),
                Ok(()),
                "{addr}"
            );
        }
        for addr in ["0.0.0.0:3000", "[::]:3000", "192.168.1.20:3000"] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(check_listen_addr(addr, false), Err(NotLoopback(addr)));
            assert_eq!(check_listen_addr(addr, true), Ok(()));
        }
    }
}
