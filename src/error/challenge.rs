//! The `WWW-Authenticate` challenges of refused tokens: RFC 6750's `invalid_token` and
//! `insufficient_scope`, and RFC 9470's `insufficient_user_authentication`.

/// The realm every challenge names (RFC 6750 section 3).
const REALM: &str = "planpro-privacy";

/// The detail of a 401 for a request that carried no bearer token at all, which RFC 6750
/// section 3.1 answers without an error code.
pub const NO_BEARER_TOKEN: &str = "a bearer token is required";

/// A 401's challenge: `invalid_token` with the detail as `error_description`, except for a
/// request that carried no token.
pub fn invalid_token(detail: &str) -> String {
    if detail == NO_BEARER_TOKEN {
        return format!("Bearer realm=\"{REALM}\"");
    }
    // error_description allows printable ASCII except `"` and `\\` (RFC 6750 section 3).
    let description: String = detail
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect();
    format!(
        "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{description}\""
    )
}

/// A 403's challenge naming the scope the token lacks.
pub fn insufficient_scope(scope: &str) -> String {
    format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\"")
}

/// A 401's challenge for a person's login below the least level of assurance.
pub fn insufficient_user_authentication(min_acr: &str) -> String {
    format!(
        "Bearer realm=\"{REALM}\", error=\"insufficient_user_authentication\", acr_values=\"{min_acr}\""
    )
}
