//! Trusted proxies: `X-Forwarded-For` is believed only from configured networks, and the
//! client is the right-most address that is not itself a trusted proxy.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// Why a network could not be parsed
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    /// Not an address, nor an address with a prefix length
    #[error("`{0}` is not an ip address or a cidr network such as `10.0.0.0/8`")]
    Malformed(String),
    /// The prefix length exceeds the address width
    #[error("prefix length in `{0}` is longer than the address")]
    PrefixTooLong(String),
}

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`); a bare address is a single host
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4)
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let malformed = || IpNetError::Malformed(s.chars().take(64).collect());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr = IpAddr::from_str(addr)
            .map_err(|_| malformed())?
            .to_canonical();
        let width: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| malformed())?,
            None => width,
        };
        if prefix > width {
            return Err(IpNetError::PrefixTooLong(s.chars().take(64).collect()));
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (none by default)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Proxies from a list of networks
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Parses a comma-separated list (`10.0.0.0/8, ::1`); empty entries are skipped
    pub fn parse_list(list: &str) -> Result<Self, IpNetError> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(IpNet::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The configured networks
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether `ip` is a trusted proxy
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; otherwise the
    /// right-most `X-Forwarded-For` address that is not a trusted proxy. An entry that is
    /// not an address stops the walk at the last trusted hop, since nothing to its left
    /// can be believed
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.iter().rev() {
            let Ok(ip) = IpAddr::from_str(hop.trim()) else {
                break;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}
