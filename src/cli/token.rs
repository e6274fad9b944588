//! `planpro-privacy token`: a signed JWT for development and scripts.

use crate::auth::{self, Scope};
use crate::config::SigningSettings;
use uuid::Uuid;

/// Print a signed JWT for development and scripts.
///
/// Prints a JWT signed (HS256) with JWT_SECRET, or in embedded mode (no DATABASE_URL) with the
/// development secret under DATA_DIR. Reads only the settings listed below; a bad setting of the
/// server (a pool size, a listening address) does not stop it.
#[derive(Debug, clap::Args)]
#[command(after_help = super::env::TOKEN)]
pub struct TokenArgs {
    /// The actor the token names (its `sub` claim), stored in every access-log entry.
    #[arg(long, value_name = "NAME", value_parser = parse_sub, required_unless_present = "self_code")]
    sub: Option<String>,
    /// Space-separated scopes (its `scope` claim), e.g. "subjects:read subjects:write".
    #[arg(long, value_name = "SCOPES", value_parser = parse_scopes, long_help = scope_help(), required_unless_present = "self_code")]
    scope: Option<String>,
    /// For a `partner` token: the recipient it acts for (its `recipient_id` claim).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    recipient_id: Option<Uuid>,
    /// A person's own token instead (`sub` EE + this personal code, scope `self`), for
    /// `/v1/me`. It proves no eID login: what it does is recorded with issuer `staff-key`.
    #[arg(long = "self", value_name = "PERSONAL_CODE", value_parser = parse_code,
          conflicts_with_all = ["sub", "scope", "recipient_id"])]
    self_code: Option<String>,
    /// With --self: the login's level of assurance (`acr`): low, substantial or high.
    #[arg(long, value_name = "LEVEL", value_parser = ["low", "substantial", "high"],
          conflicts_with_all = ["sub", "scope", "recipient_id"])]
    acr: Option<String>,
    /// How long the token is valid: a number and a unit, s, m, h or d (90s, 15m, 1h, 7d).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_ttl)]
    ttl: u64,
}

fn scope_help() -> String {
    format!(
        "Space-separated scopes (its `scope` claim), e.g. \"subjects:read subjects:write\".\nValid scopes: {}",
        Scope::names()
    )
}

fn parse_sub(text: &str) -> Result<String, String> {
    if text.trim().is_empty() || text.len() > 200 || text.chars().any(char::is_control) {
        return Err("expected 1 to 200 characters without control characters".into());
    }
    Ok(text.to_owned())
}

/// Refuses a name that is no scope, listing the valid ones: a typo would otherwise sign a token
/// that is silently refused with 403 later.
fn parse_scopes(text: &str) -> Result<String, String> {
    let unknown: Vec<&str> = text
        .split_whitespace()
        .filter(|name| Scope::from_name(name).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown scope {}; valid scopes: {}",
            unknown.join(", "),
            Scope::names()
        ));
    }
    if text.split_whitespace().next().is_none() {
        return Err(format!("expected at least one of: {}", Scope::names()));
    }
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn parse_code(text: &str) -> Result<String, String> {
    crate::domain::personal_code::PersonalCode::parse(text)
        .map(|code| code.as_str().to_owned())
        .map_err(|why| format!("not a valid personal code (isikukood): it {why}"))
}

fn parse_uuid(text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text.trim())
        .map_err(|_| "expected a UUID such as 0190b6a2-7c3e-7d1a-9f00-2b6c1d8e4a10".into())
}

fn parse_ttl(text: &str) -> Result<u64, String> {
    auth::parse_ttl(text).ok_or_else(|| {
        "expected a number and a unit, s, m, h or d, such as 90s, 15m, 1h or 7d".into()
    })
}

impl super::Run for TokenArgs {
    fn run(self) -> super::Outcome {
        let settings = super::settings(SigningSettings::from_source)?;
        let secret = match (settings.secret, settings.public_keys, settings.external_database) {
            (Some(secret), _, _) => secret,
            (None, true, _) => return Err("`token` signs with JWT_SECRET; this configuration checks tokens with public keys (JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL), which cannot sign: get tokens from the identity provider".into()),
            (None, false, true) => return Err("`token` needs JWT_SECRET (or JWT_SECRET_FILE) when DATABASE_URL is set".into()),
            (None, false, false) => super::dev_secret(&settings.data_dir)?,
        };
        let mut claims = match &self.self_code {
            Some(code) => {
                let mut claims = auth::claims_for(
                    &format!("EE{code}"),
                    auth::subject::SELF_SCOPE,
                    None,
                    self.ttl,
                );
                claims.jti = Some(uuid::Uuid::new_v4().to_string());
                claims.acr = self.acr.clone();
                claims
            }
            None => auth::claims_for(
                self.sub.as_deref().unwrap_or_default(),
                self.scope.as_deref().unwrap_or_default(),
                self.recipient_id,
                self.ttl,
            ),
        };
        claims.iss = settings.jwt_issuer;
        claims.aud = settings.jwt_audience;
        let token =
            auth::sign(secret.expose(), &claims).map_err(|e| format!("cannot sign: {e}"))?;
        println!("{token}");
        Ok(())
    }
}
