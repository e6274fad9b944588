//! Where webhooks may point: `https` URLs whose host resolves only to public addresses. The same
//! address rule runs again at every delivery attempt, on the addresses actually connected to
//! (see `http_client`), so a name that resolves elsewhere later is still refused.
//! `WEBHOOK_ALLOW_PRIVATE=true` (development and tests) lifts both rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// Whether an address may be connected to: not loopback, private, link-local, CGNAT
/// (100.64/10), benchmarking (198.18/15), unique-local (fc00::/7), IPv4-mapped, unspecified,
/// multicast or broadcast, nor an IPv6 form that embeds a refused IPv4 address (IPv4-compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`); the local-use
/// NAT64 prefix `64:ff9b:1::/48`, whose embedding is the operator's choice, is refused whole.
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
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn allowed_v6(ip: &Ipv6Addr) -> bool {
    let s = ip.segments();
    let refused = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.to_ipv4_mapped().is_some()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || s[..3] == [0x64, 0xff9b, 1];
    !refused && embedded_v4(ip).iter().all(allowed_v4)
}

/// The IPv4 addresses an IPv6 address carries, where a router or the host's own stack would
/// reach them through it.
fn embedded_v4(ip: &Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible (RFC 4291 §2.5.5.1, deprecated) and NAT64's well-known prefix (RFC 6052).
        [0, 0, 0, 0, 0, 0, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => vec![v4(hi, lo)],
        // 6to4 (RFC 3056): the relay's address follows the prefix.
        [0x2002, hi, lo, ..] => vec![v4(hi, lo)],
        // Teredo (RFC 4380): the server's address, and the client's with its bits inverted.
        [0x2001, 0, shi, slo, _, _, chi, clo] => vec![v4(shi, slo), v4(!chi, !clo)],
        _ => Vec::new(),
    }
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
            "198.18.0.1",
            "198.19.255.254",
            "::127.0.0.1",
            "::7f00:1",
            "::10.0.0.1",
            "::a9fe:a9fe",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::c612:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::1",
            "2001:0:7f00:1::",
            "2001:0:808:808::80ff:fffe",
        ] {
            assert!(!allowed(&refused.parse().unwrap()), "{refused}");
        }
        for ok in [
            "8.8.8.8",
            "100.128.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "2a00:1450::1",
            "93.184.216.34",
            "::808:808",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:808:808::f7f7:f7f7",
        ] {
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
