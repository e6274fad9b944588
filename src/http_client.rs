//! The one outgoing HTTP client: fetching an identity provider's key set and delivering webhook
//! notices. Over ureq with rustls (no OpenSSL); it follows no redirects (a redirect could lead a
//! request somewhere it was never checked to go), every call has a deadline, answers are read up
//! to a limit, and an optional rule refuses addresses that a host name resolves to, checked on
//! the addresses actually connected to (so a name cannot resolve to one address when checked
//! and another when used).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// How a client behaves.
#[derive(Clone, Copy)]
pub struct ClientOptions {
    /// The longest a whole call may take: resolving, connecting, sending and reading.
    pub timeout: Duration,
    /// The longest answer body read; a longer one is an error.
    pub max_body_bytes: u64,
    /// When set, only addresses it accepts are connected to.
    pub allow_address: Option<fn(&IpAddr) -> bool>,
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a call produced no answer. Its text names no URL, header or body (they may hold secrets).
#[derive(Debug)]
pub enum HttpError {
    /// The call did not finish within the timeout.
    Timeout,
    /// Every address of the host was refused by [`ClientOptions::allow_address`].
    AddressRefused,
    /// The answer body was longer than allowed.
    TooLarge,
    /// Anything else: no connection, TLS failure, a bad URL.
    Failed(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer within the timeout"),
            Self::AddressRefused => f.write_str("the host resolves only to refused addresses"),
            Self::TooLarge => f.write_str("the answer is larger than allowed"),
            Self::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HttpError {}

/// Resolves as usual, then keeps only the addresses the rule accepts.
#[derive(Debug)]
struct CheckedResolver {
    allow: fn(&IpAddr) -> bool,
}

impl ureq::unversioned::resolver::Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = ureq::unversioned::resolver::DefaultResolver::default()
            .resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        for addr in all.iter().filter(|a| (self.allow)(&a.ip())) {
            kept.push(*addr);
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "address refused",
            )));
        }
        Ok(kept)
    }
}

/// A client; cheap to clone, and its connections are pooled.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    options: ClientOptions,
}

impl HttpClient {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Self {
        let mut builder = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .user_agent(concat!("planpro-privacy/", env!("CARGO_PKG_VERSION")));
        if options.allow_address.is_some() {
            // Through a proxy, the address connected to would be the proxy's, not the host's.
            builder = builder.proxy(None);
        }
        let config = builder.build();
        let agent = match options.allow_address {
            Some(allow) => ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::new(),
                CheckedResolver { allow },
            ),
            None => ureq::Agent::new_with_config(config),
        };
        Self { agent, options }
    }

    /// GET `url` within `timeout` (at most the client's own).
    pub fn get(&self, url: &str, timeout: Duration) -> Result<Reply, HttpError> {
        let timeout = timeout.min(self.options.timeout);
        let request = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        self.finish(request.call())
    }

    /// POST `body` with `headers` to `url`.
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, HttpError> {
        let mut request = self.agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request.send(body))
    }

    fn finish(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, HttpError> {
        let mut response = result.map_err(classify)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.options.max_body_bytes)
            .read_to_vec()
            .map_err(classify)?;
        Ok(Reply { status, body })
    }
}

fn classify(error: ureq::Error) -> HttpError {
    match error {
        ureq::Error::Timeout(_) => HttpError::Timeout,
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            HttpError::AddressRefused
        }
        ureq::Error::Io(e) => HttpError::Failed(format!("connection failed ({})", e.kind())),
        ureq::Error::HostNotFound => HttpError::Failed("the host does not resolve".into()),
        ureq::Error::ConnectionFailed => HttpError::Failed("no connection".into()),
        ureq::Error::BadUri(_) => HttpError::Failed("not a usable URL".into()),
        ureq::Error::Tls(why) => HttpError::Failed(format!("TLS failed ({why})")),
        ureq::Error::Rustls(e) => HttpError::Failed(format!("TLS failed ({e})")),
        other => HttpError::Failed(format!("the call failed ({other})")),
    }
}
