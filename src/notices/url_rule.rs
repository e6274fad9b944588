//! Where webhooks may point: `https` URLs whose host resolves only to public addresses. The same
//! address rule runs again at every delivery attempt, on the addresses actually connected to
//! (see `http_client`), so a name that resolves elsewhere later is still refused.
//! `WEBHOOK_ALLOW_PRIVATE=true` (development and tests) lifts both rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// Whether an address may be connected to: not loopback, private, link-local, CGNAT
/// (100.64/10), unique-local (fc00::/7), IPv4-mapped, unspecified, multicast or broadcast.
pub fn allowed(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => allowed_v4(v4),
        IpAddr::V6(v6) => allowed_v6(v6),
    }
}

fn allowed_v4(ip: &Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || a >= 240)
}

fn allowed_v6(ip: &Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.to_ipv4_mapped().is_some()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0)
}

/// Checks a URL given at registration; the error is the message for the field `url`. Blocking:
/// it resolves the host.
pub fn check(url: &str, allow_private: bool) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| "must be an absolute URL such as https://partner.example/hook".to_owned())?;
    let scheme = uri.scheme_str().unwrap_or_default();
    let secure = scheme.eq_ignore_ascii_case("https");
    if !(secure || allow_private && scheme.eq_ignore_ascii_case("http")) {
        return Err("must use https".to_owned());
    }
    let authority = uri
        .authority()
        .ok_or_else(|| "must name a host".to_owned())?;
    if authority.as_str().contains('@') {
        return Err("must not carry a user name or password".to_owned());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err("must name a host".to_owned());
    }
    if allow_private {
        return Ok(());
    }
    let port = authority.port_u16().unwrap_or(443);
    let addresses: Vec<IpAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| "names a host that does not resolve".to_owned())?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err("names a host that does not resolve".to_owned());
    }
    if !addresses.iter().all(allowed) {
        return Err(
            "resolves to a loopback, private, link-local or otherwise non-public address"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_allowed() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!allowed(&refused.parse().unwrap()), "{refused}");
        }
        for ok in ["8.8.8.8", "100.128.0.1", "2a00:1450::1", "93.184.216.34"] {
            assert!(allowed(&ok.parse().unwrap()), "{ok}");
        }
    }

    #[test]
    fn urls_are_checked_for_form_scheme_and_address() {
        assert!(check("not a url", false)
            .unwrap_err()
            .contains("absolute URL"));
        assert!(check("http://8.8.8.8/x", false)
            .unwrap_err()
            .contains("https"));
        assert!(check("https://127.0.0.1/x", false)
            .unwrap_err()
            .contains("loopback"));
        assert!(check("https://[::1]:8443/x", false)
            .unwrap_err()
            .contains("loopback"));
        assert!(check("https://u:p@8.8.8.8/x", false).is_err());
        assert!(check("https://8.8.8.8/x", false).is_ok());
        assert!(check("http://127.0.0.1:9/x", true).is_ok());
        assert!(check("ftp://127.0.0.1/x", true).is_err());
    }
}
