//! `ClientIp`: the client's address, from the peer or from trusted proxies'
//! `Forwarded` / `X-Forwarded-For`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use http::HeaderMap;
use http::header::{FORWARDED, HeaderName};

use super::KeyExtractor;
use crate::context::RequestContext;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Keys requests by the client's IP address.
///
/// # Behind proxies
///
/// By default the client is the TCP peer ([`ConnInfo::remote_addr`]), and
/// forwarding headers are ignored: anyone can write them, so reading them
/// from any peer would let every client pick its own key and never be
/// limited. Behind a reverse proxy or load balancer, every request comes
/// from the proxy; name the proxies with
/// [`trust_forwarded_from`](Self::trust_forwarded_from) and the client is
/// read from the header they add, as follows:
///
/// 1. When the peer is not a trusted proxy, the client is the peer, and the
///    headers are not read at all.
/// 2. Otherwise the addresses in the header are read from the right, that
///    is from the last one added (by the peer) backwards, skipping trusted
///    proxies. The first address that is not a trusted proxy is the client.
///    What lies to the left of it was written by the client or by hops that
///    are not trusted, and is never read: a client that sends its own
///    `X-Forwarded-For: 1.2.3.4` only adds an entry on the untrusted side.
/// 3. When a trusted hop wrote something that is not an address (`unknown`,
///    an obfuscated `_name`, garbage), or the header is absent, that hop is
///    the client: requests it forwards share its quota. They are never left
///    unlimited because of a header.
///
/// Only one header is read, [`ProxyHeader::XForwardedFor`] by default or
/// [`ProxyHeader::Forwarded`] (RFC 7239): the one your proxies append to.
/// A header the proxies pass through untouched is written by the client, so
/// reading it would give the choice of key back to the client.
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as dual-stack sockets
/// report IPv4 peers) are the IPv4 address, for trust and for the key.
///
/// # Panics
///
/// [`trust_forwarded_from`](Self::trust_forwarded_from) panics on an entry
/// that is not an IP address or CIDR block, and
/// [`ipv6_prefix`](Self::ipv6_prefix) on a length over 128: the router
/// builds its middleware at startup, so the mistake shows there.
///
/// # Examples
///
/// ```
/// use std::net::IpAddr;
/// use mambo::middleware::{ClientIp, ProxyHeader};
/// use mambo::header::HeaderMap;
///
/// let client_ip = ClientIp::new()
///     .trust_forwarded_from(["10.0.0.0/8", "fd00::/8"])
///     .proxy_header(ProxyHeader::XForwardedFor);
/// let ip = |s: &str| s.parse::<IpAddr>().unwrap();
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2".parse().unwrap());
/// // Through two of our proxies from 203.0.113.7; the client wrote `6.6.6.6`.
/// assert_eq!(client_ip.client_ip(ip("10.0.0.1"), &headers), ip("203.0.113.7"));
/// // Straight from a client: its own header is ignored.
/// assert_eq!(client_ip.client_ip(ip("198.51.100.9"), &headers), ip("198.51.100.9"));
/// ```
///
/// [`ConnInfo::remote_addr`]: crate::ConnInfo::remote_addr
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientIp {
    trusted: Vec<IpNet>,
    header: ProxyHeader,
    ipv6_prefix: Option<u8>,
}

/// The header trusted proxies add the client's address to; see
/// [`ClientIp`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, AWS and
    /// most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for="[2001:db8::1]:4711"` (RFC 7239); only the
    /// `for` parameter is read.
    Forwarded,
}

impl ProxyHeader {
    fn name(self) -> HeaderName {
        match self {
            ProxyHeader::XForwardedFor => X_FORWARDED_FOR,
            ProxyHeader::Forwarded => FORWARDED,
        }
    }
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trusted: Vec<String> = self.trusted.iter().map(ToString::to_string).collect();
        f.debug_struct("ClientIp")
            .field("trusted", &trusted)
            .field("header", &self.header)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .finish()
    }
}

impl ClientIp {
    /// The TCP peer's address; no proxy trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts these proxies' forwarding header: each entry an address
    /// (`"10.0.0.1"`, `"::1"`) or a CIDR block (`"10.0.0.0/8"`,
    /// `"fd00::/8"`; bits past the prefix are ignored). Adds to the ones
    /// already trusted. See [Behind proxies](ClientIp#behind-proxies).
    ///
    /// # Panics
    ///
    /// When an entry is neither.
    #[must_use]
    pub fn trust_forwarded_from<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for proxy in proxies {
            let proxy = proxy.as_ref();
            let net = proxy.parse().unwrap_or_else(|err| {
                panic!("`{proxy}` in `trust_forwarded_from` is not a trusted proxy: {err}")
            });
            self.trusted.push(net);
        }
        self
    }

    /// Which header trusted proxies add the client to (default
    /// `X-Forwarded-For`).
    #[must_use]
    pub fn proxy_header(mut self, header: ProxyHeader) -> Self {
        self.header = header;
        self
    }

    /// Keys IPv6 clients by their first `bits` bits (64 is a typical
    /// customer allocation), so that one machine cannot get a fresh quota
    /// per address of its subnet. IPv4 addresses are unchanged. Default: the
    /// whole address.
    ///
    /// # Panics
    ///
    /// When `bits` is over 128.
    #[must_use]
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        assert!(bits <= 128, "`ipv6_prefix({bits})`: an IPv6 prefix is at most 128 bits");
        self.ipv6_prefix = Some(bits);
        self
    }

    /// The client's address for a request from `peer` with `headers`; see
    /// [Behind proxies](ClientIp#behind-proxies). The key is this address,
    /// cut to [`ipv6_prefix`](Self::ipv6_prefix) if set.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.is_trusted(client) {
            return client;
        }
        for line in headers.get_all(self.header.name()).iter().rev() {
            // Split from the right without parsing what lies to the left:
            // the elements read are the ones trusted proxies wrote, so a
            // quote or comma the client put in its own part cannot move
            // their boundaries.
            for element in line.as_bytes().rsplit(|&b| b == b',') {
                let element = element.trim_ascii();
                if element.is_empty() {
                    continue;
                }
                let hop = match self.header {
                    ProxyHeader::XForwardedFor => parse_node(element),
                    ProxyHeader::Forwarded => forwarded_for(element).and_then(parse_node),
                };
                match hop {
                    Some(hop) => client = hop.to_canonical(),
                    None => return client,
                }
                if !self.is_trusted(client) {
                    return client;
                }
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }

    fn key(&self, ip: IpAddr) -> IpAddr {
        match (ip, self.ipv6_prefix) {
            (IpAddr::V6(v6), Some(bits)) => IpAddr::V6(Ipv6Addr::from_bits(
                v6.to_bits() & u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0),
            )),
            _ => ip,
        }
    }
}

/// Requests without a peer address (the in-process [`TestClient`] unless it
/// sets one) are not limited.
///
/// [`TestClient`]: crate::test::TestClient
impl<S> KeyExtractor<S> for ClientIp {
    type Key = IpAddr;

    fn extract(&self, cx: &RequestContext<'_, S>) -> Option<IpAddr> {
        let peer = cx.conn().remote_addr?.ip();
        Some(self.key(self.client_ip(peer, cx.headers())))
    }
}

/// The `for` value of one `Forwarded` element (`for=192.0.2.1;proto=https`),
/// without quotes.
fn forwarded_for(element: &[u8]) -> Option<&[u8]> {
    element.split(|&b| b == b';').find_map(|pair| {
        let pair = pair.trim_ascii();
        let (name, value) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
        if !name.trim_ascii().eq_ignore_ascii_case(b"for") {
            return None;
        }
        let value = value[1..].trim_ascii();
        Some(value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(value))
    })
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`,
/// `192.0.2.1:4711`, `[2001:db8::1]` or `[2001:db8::1]:4711`. `None` for
/// anything else (`unknown`, `_hidden`, garbage).
fn parse_node(node: &[u8]) -> Option<IpAddr> {
    let node = std::str::from_utf8(node).ok()?;
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    let v6 = node.strip_prefix('[')?.strip_suffix(']')?;
    v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A CIDR block of trusted proxies.
#[derive(Clone, Copy, PartialEq, Eq)]
struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                net.to_bits() == ip.to_bits() & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                net.to_bits() == ip.to_bits() & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr = addr
            .parse::<IpAddr>()
            .map_err(|_| "expected an IP address or a CIDR block like `10.0.0.0/8`".to_owned())?
            .to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(prefix) if prefix <= max => prefix,
                _ => return Err(format!("the prefix length must be 0 to {max}")),
            },
        };
        let mut net = IpNet { addr, prefix };
        // Drops host bits (`10.1.2.3/8` is `10.0.0.0/8`), as `contains` masks
        // only the address it checks.
        net.addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4(std::net::Ipv4Addr::from_bits(
                v4.to_bits() & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0),
            )),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(
                v6.to_bits() & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0),
            )),
        };
        Ok(net)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &str, lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(line).unwrap(),
            );
        }
        headers
    }

    const PROXIES: [&str; 3] = ["10.0.0.0/8", "192.0.2.10", "fd00::/8"];

    /// Rows of (peer, `X-Forwarded-For` lines, expected client), with the
    /// proxies in [`PROXIES`] trusted.
    #[test]
    fn x_forwarded_for_table() {
        let client = ClientIp::new().trust_forwarded_from(PROXIES);
        let rows: &[(&str, &[&[u8]], &str)] = &[
            // An untrusted peer is the client whatever it sends.
            ("203.0.113.5", &[b"1.2.3.4"], "203.0.113.5"),
            ("203.0.113.5", &[], "203.0.113.5"),
            // One trusted proxy.
            ("10.0.0.1", &[b"203.0.113.7"], "203.0.113.7"),
            // The client's own entry is left of the proxy's and ignored.
            ("10.0.0.1", &[b"6.6.6.6, 203.0.113.7"], "203.0.113.7"),
            ("10.0.0.1", &[b"6.6.6.6,203.0.113.7"], "203.0.113.7"),
            // A chain of trusted proxies is skipped.
            ("10.0.0.1", &[b"6.6.6.6, 203.0.113.7, 192.0.2.10, 10.9.9.9"], "203.0.113.7"),
            // Several header lines are one list, in order.
            ("10.0.0.1", &[b"6.6.6.6", b"203.0.113.7, 10.1.1.1"], "203.0.113.7"),
            ("10.0.0.1", &[b"6.6.6.6, 203.0.113.7", b"10.1.1.1"], "203.0.113.7"),
            // Ports and brackets, as some proxies write them.
            ("10.0.0.1", &[b"203.0.113.7:4711"], "203.0.113.7"),
            ("10.0.0.1", &[b"[2001:db8::7]:4711"], "2001:db8::7"),
            ("10.0.0.1", &[b"[2001:db8::7]"], "2001:db8::7"),
            ("10.0.0.1", &[b"2001:db8::7"], "2001:db8::7"),
            // Empty list elements are skipped.
            ("10.0.0.1", &[b"203.0.113.7, ,"], "203.0.113.7"),
            // No header: the proxy itself is the client.
            ("10.0.0.1", &[], "10.0.0.1"),
            // Only trusted hops: the left-most one.
            ("10.0.0.1", &[b"10.2.2.2, 192.0.2.10"], "10.2.2.2"),
            // A trusted hop that wrote no address is the client.
            ("10.0.0.1", &[b"6.6.6.6, unknown"], "10.0.0.1"),
            ("10.0.0.1", &[b"6.6.6.6, not an ip, 10.3.3.3"], "10.3.3.3"),
            ("10.0.0.1", &[b"203.0.113.7, 300.1.1.1"], "10.0.0.1"),
            ("10.0.0.1", &[b"\xff\xfe"], "10.0.0.1"),
            // Garbage the client wrote is never parsed.
            ("10.0.0.1", &[b"\"quoted, [garbage, 203.0.113.7"], "203.0.113.7"),
            ("10.0.0.1", &[b"\xff\xfe, 203.0.113.7"], "203.0.113.7"),
            // IPv4-mapped addresses are IPv4, for trust and for the result.
            ("::ffff:10.0.0.1", &[b"::ffff:203.0.113.7"], "203.0.113.7"),
            ("fd00::1", &[b"203.0.113.7"], "203.0.113.7"),
        ];
        for (peer, lines, expected) in rows {
            let got = client.client_ip(ip(peer), &headers("x-forwarded-for", lines));
            assert_eq!(got, ip(expected), "peer {peer}, x-forwarded-for {lines:?}");
        }
    }

    /// Rows of (peer, `Forwarded` lines, expected client).
    #[test]
    fn forwarded_table() {
        let client =
            ClientIp::new().trust_forwarded_from(PROXIES).proxy_header(ProxyHeader::Forwarded);
        let rows: &[(&str, &[&[u8]], &str)] = &[
            ("203.0.113.5", &[b"for=1.2.3.4"], "203.0.113.5"),
            ("10.0.0.1", &[b"for=203.0.113.7"], "203.0.113.7"),
            ("10.0.0.1", &[b"For=203.0.113.7"], "203.0.113.7"),
            ("10.0.0.1", &[b"for=\"203.0.113.7:4711\""], "203.0.113.7"),
            ("10.0.0.1", &[b"for=\"[2001:db8:cafe::17]:4711\""], "2001:db8:cafe::17"),
            ("10.0.0.1", &[b"for=\"[2001:db8:cafe::17]\""], "2001:db8:cafe::17"),
            ("10.0.0.1", &[b"proto=https;for=203.0.113.7;by=10.0.0.1"], "203.0.113.7"),
            ("10.0.0.1", &[b"for = 203.0.113.7 ; proto=http"], "203.0.113.7"),
            ("10.0.0.1", &[b"for=6.6.6.6, for=203.0.113.7, for=10.8.8.8"], "203.0.113.7"),
            ("10.0.0.1", &[b"for=6.6.6.6", b"for=203.0.113.7"], "203.0.113.7"),
            // RFC 7239's obfuscated and unknown nodes, and elements without
            // `for`: the trusted hop that wrote them is the client.
            ("10.0.0.1", &[b"for=6.6.6.6, for=unknown"], "10.0.0.1"),
            ("10.0.0.1", &[b"for=6.6.6.6, for=_hidden, for=10.4.4.4"], "10.4.4.4"),
            ("10.0.0.1", &[b"for=6.6.6.6, proto=https"], "10.0.0.1"),
            ("10.0.0.1", &[b"for"], "10.0.0.1"),
            ("10.0.0.1", &[b"for=\""], "10.0.0.1"),
            // The client's garbage, quotes included, is left of the boundary.
            ("10.0.0.1", &[b"for=\"6.6.6.6, for=203.0.113.7"], "203.0.113.7"),
            // X-Forwarded-For is not read when Forwarded is the header.
            ("10.0.0.1", &[], "10.0.0.1"),
        ];
        for (peer, lines, expected) in rows {
            let got = client.client_ip(ip(peer), &headers("forwarded", lines));
            assert_eq!(got, ip(expected), "peer {peer}, forwarded {lines:?}");
        }
        let xff = headers("x-forwarded-for", &[b"203.0.113.7"]);
        assert_eq!(client.client_ip(ip("10.0.0.1"), &xff), ip("10.0.0.1"));
    }

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let client = ClientIp::new();
        let xff = headers("x-forwarded-for", &[b"203.0.113.7"]);
        assert_eq!(client.client_ip(ip("10.0.0.1"), &xff), ip("10.0.0.1"));
        let forwarded = headers("forwarded", &[b"for=203.0.113.7"]);
        let client = client.proxy_header(ProxyHeader::Forwarded);
        assert_eq!(client.client_ip(ip("127.0.0.1"), &forwarded), ip("127.0.0.1"));
    }

    #[test]
    fn trusted_proxy_parsing_table() {
        let rows: &[(&str, Option<&str>)] = &[
            ("10.0.0.0/8", Some("10.0.0.0/8")),
            ("10.1.2.3/8", Some("10.0.0.0/8")),
            ("10.1.2.3", Some("10.1.2.3/32")),
            ("0.0.0.0/0", Some("0.0.0.0/0")),
            ("fd00::/8", Some("fd00::/8")),
            ("::1", Some("::1/128")),
            ("::ffff:10.0.0.1", Some("10.0.0.1/32")),
            ("10.0.0.0/33", None),
            ("fd00::/129", None),
            ("10.0.0.0/", None),
            ("10.0.0.0/x", None),
            ("localhost", None),
            ("", None),
        ];
        for (input, expected) in rows {
            let got = input.parse::<IpNet>().ok().map(|net| net.to_string());
            assert_eq!(got.as_deref(), *expected, "{input:?}");
        }
    }

    #[test]
    fn cidr_membership_table() {
        let rows = [
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("0.0.0.0/0", "203.0.113.1", true),
            ("192.0.2.10", "192.0.2.10", true),
            ("192.0.2.10", "192.0.2.11", false),
            ("fd00::/8", "fdff::1", true),
            ("fd00::/8", "fe00::1", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "10.0.0.1", false),
            ("10.0.0.0/8", "::ffff:10.0.0.1", false),
        ];
        for (net, addr, inside) in rows {
            let got = net.parse::<IpNet>().unwrap().contains(ip(addr));
            assert_eq!(got, inside, "{addr} in {net}");
        }
    }

    #[test]
    #[should_panic(expected = "`10.0.0.0/40` in `trust_forwarded_from` is not a trusted proxy")]
    fn a_bad_trusted_proxy_panics() {
        let _ = ClientIp::new().trust_forwarded_from(["10.0.0.0/40"]);
    }

    #[test]
    fn ipv6_clients_can_be_keyed_by_prefix() {
        let whole = ClientIp::new();
        let by_64 = ClientIp::new().ipv6_prefix(64);
        let a = ip("2001:db8:1:2:aaaa::1");
        let b = ip("2001:db8:1:2:bbbb::2");
        assert_ne!(whole.key(a), whole.key(b));
        assert_eq!(by_64.key(a), by_64.key(b));
        assert_eq!(by_64.key(a), ip("2001:db8:1:2::"));
        assert_ne!(by_64.key(a), by_64.key(ip("2001:db8:1:3::1")));
        assert_eq!(by_64.key(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(ClientIp::new().ipv6_prefix(0).key(a), ip("::"));
    }
}
