//! Which proxy a request goes through, read from the environment as curl reads it:
//! `http_proxy` (lower case only: curl ignores `HTTP_PROXY`, which a CGI request can set
//! from a `Proxy:` header, "httpoxy"), `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy`
//! for either scheme, and `NO_PROXY`/`no_proxy` (a comma list of host names, matching the
//! name and its subdomains, IP addresses, CIDR ranges, or `*`). Unlike curl, loopback targets
//! (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`) never go through a proxy: a proxy on
//! another host could not reach them anyway, and the simulated deployment and the tests must
//! keep working on a CI runner that exports `HTTPS_PROXY`.
//!
//! Hand-written rather than reqwest's own environment reading because the decision is also
//! the credential policy's input (a secret never goes in clear through a proxy; see
//! [`Proxies::route`]) and because curl's rules differ from reqwest's on `HTTP_PROXY`.

use crate::config::EnvSnapshot;
use std::net::IpAddr;
use url::{Host, Url};

/// A proxy chosen for a request: its URL and the variable that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub variable: &'static str,
    pub proxy: Url,
}

impl Route {
    /// `scheme://host:port` of the proxy: what a message may show (never its user or password).
    pub fn shown(&self) -> String {
        format!(
            "{}://{}:{}",
            self.proxy.scheme(),
            self.proxy.host_str().unwrap_or("?"),
            self.proxy.port_or_known_default().unwrap_or(0)
        )
    }
}

/// The proxies of a run.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    http: Option<Route>,
    https: Option<Route>,
    no_proxy: Vec<NoProxy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxy {
    Everything,
    /// A host name (lower case, without a leading dot): itself and its subdomains.
    Domain(String),
    Network {
        address: IpAddr,
        prefix: u8,
    },
}

impl Proxies {
    /// The proxies `env` names; an unusable value is an error naming its variable.
    pub fn from_env(env: &EnvSnapshot) -> Result<Proxies, String> {
        // curl's order: the lower-case name first.
        let first = |names: &[&'static str]| -> Result<Option<Route>, String> {
            for &name in names {
                if let Some(value) = env.get_nonempty(name) {
                    return parse_proxy(name, value).map(Some);
                }
            }
            Ok(None)
        };
        let all = first(&["all_proxy", "ALL_PROXY"])?;
        let http = first(&["http_proxy"])?.or_else(|| all.clone());
        let https = first(&["https_proxy", "HTTPS_PROXY"])?.or(all);
        let no_proxy = env
            .get_nonempty("no_proxy")
            .or_else(|| env.get_nonempty("NO_PROXY"))
            .map(parse_no_proxy)
            .unwrap_or_default();
        Ok(Proxies {
            http,
            https,
            no_proxy,
        })
    }

    /// Whether any proxy is configured (the client then asks [`Proxies::route`] per request).
    pub fn any(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }

    /// The proxies' passwords (`http://user:password@proxy`), for the redactor: long enough
    /// ones only, as for any secret.
    pub fn passwords(&self) -> Vec<String> {
        [&self.http, &self.https]
            .into_iter()
            .flatten()
            .filter_map(|route| route.proxy.password())
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|p| p.len() >= crate::config::MIN_SECRET_LEN)
            .collect()
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn route(&self, url: &Url) -> Option<&Route> {
        let route = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }?;
        let host = url.host()?;
        if is_loopback(&host) || self.no_proxy.iter().any(|entry| entry.matches(&host)) {
            return None;
        }
        Some(route)
    }
}

fn parse_proxy(variable: &'static str, value: &str) -> Result<Route, String> {
    // curl reads a value without a scheme as an HTTP proxy.
    let text = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let proxy = Url::parse(&text).map_err(|e| format!("{variable}: not a proxy URL ({e})"))?;
    match proxy.scheme() {
        "http" | "https" if proxy.host_str().is_some() => Ok(Route { variable, proxy }),
        "http" | "https" => Err(format!("{variable}: the proxy URL has no host")),
        other => Err(format!(
            "{variable}: {other}:// proxies are not supported (use an http:// or https:// proxy)"
        )),
    }
}

fn parse_no_proxy(value: &str) -> Vec<NoProxy> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            if entry == "*" {
                return NoProxy::Everything;
            }
            if let Some((address, prefix)) = entry.split_once('/')
                && let (Ok(address), Ok(prefix)) = (address.parse::<IpAddr>(), prefix.parse())
            {
                return NoProxy::Network { address, prefix };
            }
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            match bare.parse::<IpAddr>() {
                Ok(address) => NoProxy::Network {
                    address,
                    prefix: if address.is_ipv4() { 32 } else { 128 },
                },
                // `.example.com` and `example.com` both mean the domain and its subdomains.
                Err(_) => NoProxy::Domain(entry.trim_start_matches('.').to_ascii_lowercase()),
            }
        })
        .collect()
}

impl NoProxy {
    fn matches(&self, host: &Host<&str>) -> bool {
        match (self, host) {
            (NoProxy::Everything, _) => true,
            (NoProxy::Domain(domain), Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == *domain
                    || name
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
            (NoProxy::Network { address, prefix }, Host::Ipv4(ip)) => {
                in_network(IpAddr::V4(*ip), *address, *prefix)
            }
            (NoProxy::Network { address, prefix }, Host::Ipv6(ip)) => {
                in_network(IpAddr::V6(*ip), *address, *prefix)
            }
            _ => false,
        }
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let bits = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let bits = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let env = EnvSnapshot::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Proxies::from_env(&env).expect("valid proxies")
    }

    fn route(p: &Proxies, url: &str) -> Option<&'static str> {
        p.route(&Url::parse(url).expect("url")).map(|r| r.variable)
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_as_curl_does() {
        let p = proxies(&[("HTTP_PROXY", "http://proxy:3128")]);
        assert_eq!(route(&p, "http://example.com/"), None);
        let p = proxies(&[("http_proxy", "proxy:3128")]);
        assert_eq!(route(&p, "http://example.com/"), Some("http_proxy"));
        assert_eq!(route(&p, "https://example.com/"), None);
    }

    #[test]
    fn https_and_all_proxy() {
        let p = proxies(&[("HTTPS_PROXY", "http://p:1"), ("ALL_PROXY", "http://a:2")]);
        assert_eq!(route(&p, "https://example.com/"), Some("HTTPS_PROXY"));
        assert_eq!(route(&p, "http://example.com/"), Some("ALL_PROXY"));
        let p = proxies(&[("https_proxy", "http://p:1"), ("HTTPS_PROXY", "http://q:1")]);
        assert_eq!(route(&p, "https://example.com/"), Some("https_proxy"));
    }

    #[test]
    fn no_proxy_domains_ips_cidrs_and_star() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                ".internal.example, 10.0.0.0/8, 192.168.1.7,[fd00::1]",
            ),
        ]);
        assert_eq!(route(&p, "https://internal.example/"), None);
        assert_eq!(route(&p, "https://a.b.internal.example/"), None);
        assert_eq!(
            route(&p, "https://notinternal.example/"),
            Some("HTTPS_PROXY")
        );
        assert_eq!(route(&p, "https://10.3.4.5/"), None);
        assert_eq!(route(&p, "https://11.0.0.1/"), Some("HTTPS_PROXY"));
        assert_eq!(route(&p, "https://192.168.1.7/"), None);
        assert_eq!(route(&p, "https://192.168.1.8/"), Some("HTTPS_PROXY"));
        assert_eq!(route(&p, "https://[fd00::1]/"), None);
        let p = proxies(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(route(&p, "https://example.com/"), None);
    }

    #[test]
    fn loopback_never_goes_through_a_proxy() {
        let p = proxies(&[("HTTPS_PROXY", "http://p:1"), ("http_proxy", "http://p:1")]);
        for url in [
            "https://127.0.0.1:8443/",
            "http://127.9.9.9/",
            "http://localhost:1/",
            "https://api.localhost/",
            "http://[::1]:80/",
        ] {
            assert_eq!(route(&p, url), None, "{url}");
        }
    }

    #[test]
    fn unusable_values_name_their_variable() {
        let env = EnvSnapshot::new([("ALL_PROXY".to_string(), "socks5://p:1080".to_string())]);
        let err = Proxies::from_env(&env).expect_err("socks refused");
        assert!(err.starts_with("ALL_PROXY: socks5:// proxies"), "{err}");
    }

    #[test]
    fn shown_hides_the_proxy_password() {
        let p = proxies(&[("HTTPS_PROXY", "http://user:hunter22@p:3128")]);
        let shown = p.https.as_ref().expect("route").shown();
        assert_eq!(shown, "http://p:3128");
        assert_eq!(p.passwords(), ["hunter22"]);
    }
}
