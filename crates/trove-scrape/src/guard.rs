//! The SSRF guard: a public web site must not be able to make Trove request
//! addresses on the user's own machine or network (routers, admin pages,
//! cloud metadata at 169.254.169.254, …) through a redirect or a crawl link.
//!
//! * [`is_special`] classifies an address (loopback, private, link-local,
//!   shared, multicast, reserved, and IPv6 forms that embed such an IPv4).
//! * [`GuardedResolver`] resolves names for the guarded HTTP client and drops
//!   special addresses, so the check happens on the address actually
//!   connected to (no DNS rebinding window between check and connect).
//! * IP-literal hosts never reach a resolver; [`Guard::check_url`] checks them
//!   before a request is sent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether `ip` is an address a public site must not lead Trove to: this
/// machine, the local network, link-local (cloud metadata), shared/carrier
/// NAT, multicast, broadcast and reserved ranges. IPv6 addresses that embed an
/// IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by the
/// embedded address.
pub(crate) fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                   // 0.0.0.0/8 "this network"
        || a == 10                           // 10/8 private
        || a == 127                          // loopback
        || (a == 100 && (64..128).contains(&b)) // 100.64/10 shared (CGNAT)
        || (a == 169 && b == 254)            // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // 172.16/12 private
        || (a == 192 && b == 168)            // 192.168/16 private
        || (a == 192 && b == 0 && c == 0)    // 192.0.0/24 IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)    // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // 198.18/15 benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)  // TEST-NET-3
        || a >= 224 // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_special_v4(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()                      // ::
        || ip.is_loopback()                  // ::1
        || (s[0] & 0xfe00) == 0xfc00         // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80         // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0         // fec0::/10 site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00         // ff00::/8 multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // 2001:db8::/32 documentation
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // 100::/64 discard
}

/// The IPv4 address carried inside an IPv6 address, for the forms that route
/// to it: `::ffff:a.b.c.d` (mapped), `::a.b.c.d` (compatible, deprecated),
/// `64:ff9b::a.b.c.d` and `64:ff9b:1::/48` (NAT64), `2002:AABB:CCDD::/48`
/// (6to4) and Teredo `2001:0::/32` (the client address, stored inverted).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let tail = || Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return Some(tail()); // mapped
    }
    if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
        return Some(tail()); // compatible (not :: or ::1)
    }
    if s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1) {
        return Some(tail()); // NAT64 well-known and local-use prefixes
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])); // 6to4
    }
    if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: the client's address is the last 32 bits, inverted.
        return Some(Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]));
    }
    None
}

/// Why a request was refused, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Redirect,
    Link,
}

/// The addresses the guard lets through although they are special
/// ([`crate::ScrapeConfig::treat_as_public`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    treat_as_public: Arc<[IpAddr]>,
}

impl Guard {
    pub(crate) fn new(treat_as_public: &[IpAddr]) -> Self {
        Self {
            treat_as_public: treat_as_public.iter().map(|ip| ip.to_canonical()).collect(),
        }
    }

    /// Whether the guard treats `ip` as a public address.
    pub(crate) fn is_public(&self, ip: IpAddr) -> bool {
        self.treat_as_public.contains(&ip.to_canonical()) || !is_special(ip)
    }

    /// The special address `url`'s host is written as, if it is an IP
    /// literal (these never reach the resolver).
    pub(crate) fn special_literal(&self, url: &Url) -> Option<IpAddr> {
        let ip = match url.host()? {
            Host::Ipv4(v4) => IpAddr::V4(v4),
            Host::Ipv6(v6) => IpAddr::V6(v6),
            Host::Domain(_) => return None,
        };
        (!self.is_public(ip)).then_some(ip)
    }

    /// A special address `url`'s host name resolves to, looked up now (used
    /// only behind a proxy, where the resolver of the guarded client would
    /// see the proxy's name instead). Lookup failures count as public.
    pub(crate) async fn special_resolution(&self, url: &Url) -> Option<IpAddr> {
        let Some(Host::Domain(d)) = url.host() else {
            return None;
        };
        let port = url.port_or_known_default().unwrap_or(80);
        tokio::net::lookup_host((d, port))
            .await
            .ok()?
            .map(|a| a.ip())
            .find(|ip| !self.is_public(*ip))
    }

    /// Whether the host of `url` resolves only to special addresses (a site on
    /// the user's own machine or network). Lookup failures count as public,
    /// which keeps the guard on.
    pub(crate) async fn host_is_private(&self, url: &Url) -> bool {
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<IpAddr> = match url.host() {
            Some(Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
            Some(Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
            Some(Host::Domain(d)) => match tokio::net::lookup_host((d, port)).await {
                Ok(it) => it.map(|a| a.ip()).collect(),
                Err(_) => return false,
            },
            None => return false,
        };
        !addrs.is_empty() && addrs.iter().all(|ip| !self.is_public(*ip))
    }
}

/// The resolver error when a name resolves only to special addresses. Found
/// again in the reqwest error's source chain to word the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub(crate) host: String,
    pub(crate) ip: IpAddr,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to local or private addresses such as {}",
            self.host, self.ip
        )
    }
}

impl std::error::Error for Blocked {}

/// Resolves with the system resolver (`getaddrinfo`) and keeps only public
/// addresses; errors with [`Blocked`] when none remain.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) guard: Guard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| guard.is_public(a.ip()))
                .collect();
            if public.is_empty() {
                if let Some(first) = all.first() {
                    return Err(Box::new(Blocked {
                        host,
                        ip: first.ip(),
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
                return Err(format!("no addresses found for {host}").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The [`Blocked`] error somewhere in `e`'s source chain.
pub(crate) fn find_blocked(e: &(dyn std::error::Error + 'static)) -> Option<Blocked> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(b.clone());
        }
        cur = err.source();
    }
    None
}

/// The message for a refused hop: `what` names the address
/// (`127.0.0.1`, `localhost at 127.0.0.1`).
pub(crate) fn blocked_message(via: Via, what: &str) -> String {
    let verb = match via {
        Via::Redirect => "the page redirects to",
        Via::Link => "the link leads to",
    };
    format!(
        "{verb} a local or private network address ({what}), which Trove does not follow from a public site"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn special(s: &str) -> bool {
        is_special(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        for s in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "198.18.0.1",
        ] {
            assert!(special(s), "{s} should be special");
        }
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.0.1",
            "192.169.0.1",
            "11.0.0.1",
            "223.255.255.255",
            "93.184.216.34",
        ] {
            assert!(!special(s), "{s} should be public");
        }
    }

    #[test]
    fn ipv6_ranges_and_embedded_ipv4() {
        for s in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::10.0.0.1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            // Teredo with client 127.0.0.1 (inverted: 80ff:fffe)
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001:db8::1",
        ] {
            assert!(special(s), "{s} should be special");
        }
        for s in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!special(s), "{s} should be public");
        }
    }

    #[test]
    fn decimal_octal_and_hex_spellings_become_dotted_literals() {
        let g = Guard::default();
        for (input, ip) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            ("http://169.254.169.254./latest", "169.254.169.254"),
        ] {
            let url = Url::parse(input).unwrap();
            assert_eq!(
                g.special_literal(&url),
                Some(ip.parse().unwrap()),
                "{input} parsed as {url}"
            );
        }
        assert_eq!(
            g.special_literal(&Url::parse("http://localhost/").unwrap()),
            None
        );
        assert_eq!(
            g.special_literal(&Url::parse("http://8.8.8.8/").unwrap()),
            None
        );
    }

    #[test]
    fn treat_as_public_is_an_exception_list() {
        let g = Guard::new(&["127.0.0.2".parse().unwrap()]);
        assert!(g.is_public("127.0.0.2".parse().unwrap()));
        assert!(g.is_public("::ffff:127.0.0.2".parse().unwrap()));
        assert!(!g.is_public("127.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn resolver_drops_special_addresses() {
        let r = GuardedResolver {
            guard: Guard::default(),
        };
        let e = match r.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let b = find_blocked(&*e).expect("a Blocked error");
        assert_eq!(b.host, "localhost");
        assert!(is_special(b.ip));
        // With the loopback addresses allowed it resolves.
        let r = GuardedResolver {
            guard: Guard::new(&["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
        };
        let addrs: Vec<_> = r
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }
}
