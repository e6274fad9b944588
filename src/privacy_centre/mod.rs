//! The privacy centre (contract v3, A): the page a person opens with their own token in the URL
//! fragment to see their data, switch consents, read who accessed their data and file requests,
//! and the page that confirms a double opt-in. Both are static: the HTML, CSS and JavaScript are
//! compiled into the binary and call the `/v1/me` endpoints from the person's browser, so the
//! server never sees the token in a URL and serves the same bytes to everyone.

pub mod assets;
pub mod language;
pub mod routes;
