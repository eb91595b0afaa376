//! Where the agent may listen. It holds every user share of the app, so by default only
//! processes on the same machine may reach it; anything wider must be asked for by name (this
//! version has no TLS of its own: put it behind a TLS-terminating proxy then).

use std::net::SocketAddr;

use crate::error::AgentError;

/// Who may reach the agent's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// Loopback addresses only (the default).
    Loopback,
    /// Any address: the operator said so explicitly (`--allow-non-loopback`).
    Public,
}

/// Refuse a non-loopback `addr` unless `exposure` allows it.
pub fn check(addr: SocketAddr, exposure: Exposure) -> Result<(), AgentError> {
    if addr.ip().is_loopback() || exposure == Exposure::Public {
        return Ok(());
    }
    Err(AgentError::Setup(format!(
        "refusing to listen on {addr}: the agent holds every user share of the app, so it listens on \
         loopback only (e.g. 127.0.0.1:8700); to expose it anyway, behind a TLS-terminating proxy, pass \
         --allow-non-loopback"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_told_otherwise() {
        let local: SocketAddr = "127.0.0.1:8700".parse().unwrap();
        let local6: SocketAddr = "[::1]:8700".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8700".parse().unwrap();
        let lan: SocketAddr = "192.168.1.5:8700".parse().unwrap();
        assert!(check(local, Exposure::Loopback).is_ok());
        assert!(check(local6, Exposure::Loopback).is_ok());
        for addr in [any, lan] {
            let e = check(addr, Exposure::Loopback).unwrap_err();
            assert!(e.to_string().contains("--allow-non-loopback"), "{e}");
            assert!(check(addr, Exposure::Public).is_ok());
        }
    }
}
