//! How variables are read: from the environment or a test map, `X` or `X_FILE`, every problem
//! noted rather than the first one returned. Shared by every reader of settings in `config`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

/// Where variables are read from: the process environment, or a map in tests.
pub trait Source {
    /// The raw value of a variable, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// A start-up failure naming every bad variable.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub(super) struct Reader<'a> {
    pub(super) source: &'a dyn Source,
    pub(super) problems: Vec<String>,
}

impl Reader<'_> {
    /// `X` or the contents of the file named by `X_FILE`; both at once is an error.
    pub(super) fn raw(&mut self, name: &str) -> Option<String> {
        let direct = self.source.get(name).filter(|v| !v.is_empty());
        let file_var = format!("{name}_FILE");
        let from_file = self.source.get(&file_var).filter(|v| !v.is_empty());
        match (direct, from_file) {
            (Some(_), Some(_)) => {
                self.problems
                    .push(format!("{name} and {file_var} are both set; set only one"));
                None
            }
            (Some(v), None) => Some(v),
            (None, Some(path)) => match std::fs::read_to_string(&path) {
                Ok(contents) => Some(contents.trim_end_matches(['\n', '\r']).to_owned()),
                Err(e) => {
                    self.problems
                        .push(format!("{file_var}: cannot read the file it names: {e}"));
                    None
                }
            },
            (None, None) => None,
        }
    }

    /// A value `parse` accepts; a refused one is answered with the accepted form, `expected`.
    pub(super) fn parsed_as<T>(
        &mut self,
        name: &str,
        default: T,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        match self.raw(name) {
            None => default,
            Some(v) => parse(v.trim()).unwrap_or_else(|| {
                self.problems.push(format!("{name}: expected {expected}"));
                default
            }),
        }
    }

    /// A whole number within `range`; the message names the range.
    pub(super) fn number<T>(
        &mut self,
        name: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> T
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let expected = format!("a whole number from {} to {}", range.start(), range.end());
        self.parsed_as(name, default, &expected, |v| {
            v.parse().ok().filter(|n| range.contains(n))
        })
    }

    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    pub(super) fn flag(&mut self, name: &str, default: bool) -> bool {
        self.parsed_as(name, default, "true or false", parse_bool)
    }

    /// The listening address: an IP address or a host name (resolved now), with a port.
    pub(super) fn bind_addr(&mut self) -> SocketAddr {
        let default = SocketAddr::from(([127, 0, 0, 1], 8080));
        let Some(value) = self.raw("BIND_ADDR") else {
            return default;
        };
        match resolve_bind_addr(value.trim()) {
            Ok(addr) => addr,
            Err(problem) => {
                self.problems.push(format!("BIND_ADDR: {problem}"));
                default
            }
        }
    }

    /// Where the embedded cluster and development secrets live.
    pub(super) fn data_dir(&mut self) -> std::path::PathBuf {
        self.raw("DATA_DIR")
            .unwrap_or_else(|| ".data".to_owned())
            .into()
    }

    pub(super) fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError(self.problems))
        }
    }
}

/// `HOST:PORT`, the host an IP address (IPv6 in brackets) or a name that resolves.
fn resolve_bind_addr(value: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    const FORM: &str = "HOST:PORT, such as 127.0.0.1:8080, [::1]:8080 or localhost:8080";
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err(format!("expected {FORM}"));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(format!(
            "expected {FORM}; the port is a number from 0 to 65535"
        ));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("expected {FORM}"));
    }
    let mut found = (host, port)
        .to_socket_addrs()
        .map_err(|_| format!("the host `{host}` does not resolve; expected {FORM}"))?;
    found
        .next()
        .ok_or_else(|| format!("the host `{host}` has no address; expected {FORM}"))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}
