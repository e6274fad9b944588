//! The pages' files, compiled in from `assets/privacy/`: nothing is read from disk or fetched at
//! run time, and no build step makes them.

use serde::Deserialize;
use utoipa::ToSchema;

/// The privacy centre's page; `__LANG__` is replaced by the language it opens in.
pub const CENTRE_HTML: &str = include_str!("../../assets/privacy/centre.html");
/// The double opt-in confirmation page; `__LANG__` as above.
pub const CONFIRM_HTML: &str = include_str!("../../assets/privacy/confirm.html");

/// A file the pages load from `/privacy/assets/{file}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Asset {
    /// The pages' style sheet.
    #[serde(rename = "privacy.css")]
    Css,
    /// The texts in Estonian, English and Russian, and date formatting.
    #[serde(rename = "i18n.js")]
    Texts,
    /// Estonian texts.
    #[serde(rename = "texts-et.js")]
    TextsEt,
    /// English texts.
    #[serde(rename = "texts-en.js")]
    TextsEn,
    /// Russian texts.
    #[serde(rename = "texts-ru.js")]
    TextsRu,
    /// The calls to the service, with the token kept in memory.
    #[serde(rename = "api.js")]
    Api,
    /// Building elements without markup strings.
    #[serde(rename = "dom.js")]
    Dom,
    /// Checking an access-log entry's inclusion proof in the browser.
    #[serde(rename = "verify.js")]
    Verify,
    /// The privacy centre's script.
    #[serde(rename = "centre.js")]
    Centre,
    /// The centre's consent switches.
    #[serde(rename = "consents.js")]
    Consents,
    /// The centre's access log.
    #[serde(rename = "log.js")]
    Log,
    /// The centre's requests and the access response download.
    #[serde(rename = "requests.js")]
    Requests,
    /// The confirmation page's script.
    #[serde(rename = "confirm.js")]
    Confirm,
}

impl Asset {
    /// The file's name under `/privacy/assets/`.
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }

    /// Its media type and bytes.
    pub fn content(self) -> (&'static str, &'static str) {
        const JS: &str = "text/javascript; charset=utf-8";
        match self {
            Self::Css => (
                "text/css; charset=utf-8",
                include_str!("../../assets/privacy/privacy.css"),
            ),
            Self::Texts => (JS, include_str!("../../assets/privacy/i18n.js")),
            Self::TextsEt => (JS, include_str!("../../assets/privacy/texts-et.js")),
            Self::TextsEn => (JS, include_str!("../../assets/privacy/texts-en.js")),
            Self::TextsRu => (JS, include_str!("../../assets/privacy/texts-ru.js")),
            Self::Api => (JS, include_str!("../../assets/privacy/api.js")),
            Self::Dom => (JS, include_str!("../../assets/privacy/dom.js")),
            Self::Verify => (JS, include_str!("../../assets/privacy/verify.js")),
            Self::Centre => (JS, include_str!("../../assets/privacy/centre.js")),
            Self::Consents => (JS, include_str!("../../assets/privacy/consents.js")),
            Self::Log => (JS, include_str!("../../assets/privacy/log.js")),
            Self::Requests => (JS, include_str!("../../assets/privacy/requests.js")),
            Self::Confirm => (JS, include_str!("../../assets/privacy/confirm.js")),
        }
    }
}
