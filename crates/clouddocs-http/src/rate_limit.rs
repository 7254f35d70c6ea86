//! Brute-force defences of the credential endpoints. The gates themselves are the
//! service's (`clouddocs_service::throttle`): every sign-in path calls the same service
//! function, so `/auth/login`, the `/login` page and the `password` grant answer alike.
//! What lives here is the HTTP side: which address a request comes from
//! ([`TrustedProxies`]).

#[cfg(test)]
use std::net::IpAddr;

pub use crate::trusted_proxies::{IpNet, IpNetError, TrustedProxies};
pub use clouddocs_service::throttle::{Gate, Limit, RateLimitSettings};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn networks_match_their_addresses_only() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        let host: IpNet = "::1/128".parse().unwrap();
        let all: IpNet = "0.0.0.0/0".parse().unwrap();

        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(host.contains(ip("::1")));
        assert!(!host.contains(ip("::2")));
        assert!(!host.contains(ip("127.0.0.1")));
        assert!(all.contains(ip("203.0.113.9")));
        assert_eq!(
            "192.168.1.7".parse::<IpNet>().unwrap().to_string(),
            "192.168.1.7/32"
        );
    }

    #[test]
    fn malformed_networks_are_refused() {
        assert!(matches!(
            "10.0.0.0/33".parse::<IpNet>(),
            Err(IpNetError::PrefixTooLong(_))
        ));
        assert!(matches!(
            "nonsense".parse::<IpNet>(),
            Err(IpNetError::Malformed(_))
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<IpNet>(),
            Err(IpNetError::Malformed(_))
        ));
        assert_eq!(
            TrustedProxies::parse_list(" 10.0.0.0/8, ::1 ,")
                .unwrap()
                .networks()
                .len(),
            2
        );
    }

    #[test]
    fn an_untrusted_peers_forwarded_for_is_ignored() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();

        let client = proxies.client_ip(ip("203.0.113.5"), &xff(&["1.2.3.4"]));

        assert_eq!(client, ip("203.0.113.5"));
    }

    #[test]
    fn a_trusted_peer_yields_the_right_most_untrusted_hop() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();

        let client =
            proxies.client_ip(ip("10.0.0.1"), &xff(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]));
        let garbage =
            proxies.client_ip(ip("10.0.0.1"), &xff(&["198.51.100.7, nonsense, 10.0.0.3"]));
        let none = proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new());

        assert_eq!(client, ip("198.51.100.7"));
        assert_eq!(garbage, ip("10.0.0.3"));
        assert_eq!(none, ip("10.0.0.1"));
    }
}
