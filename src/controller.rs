//! The data controller the service speaks for, as configured (`CONTROLLER_*`,
//! `DATA_STORAGE_LOCATION`): consent receipts name it, and so may anything else that states who
//! is responsible for the data. Read once at start-up; every process serves one controller.

use crate::domain::country::CountryCode;
use crate::domain::email::Email;
use crate::domain::registry_code::RegistryCode;
use std::sync::OnceLock;

/// The controller's particulars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// `CONTROLLER_NAME` (default `PlanPro OÜ`).
    pub name: String,
    /// `CONTROLLER_REGISTRY_CODE`: 8 digits with a right check digit; none by default.
    pub registry_code: Option<RegistryCode>,
    /// `CONTROLLER_ADDRESS`; none by default.
    pub address: Option<String>,
    /// `CONTROLLER_EMAIL` (default `info@planpro.ee`).
    pub email: String,
    /// `CONTROLLER_POLICY_URL`, an `https` URL; none by default.
    pub policy_url: Option<String>,
    /// `DATA_STORAGE_LOCATION`, a country code (default `EE`).
    pub storage_location: String,
    /// Where a person may complain (`AUTHORITY_*`): access responses name it.
    pub authority: Authority,
}

/// The supervisory authority a person may complain to (Art. 77); by default Estonia's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// `AUTHORITY_NAME` (default `Andmekaitse Inspektsioon`).
    pub name: String,
    /// `AUTHORITY_ADDRESS` (default `Tatari 39, 10134 Tallinn`).
    pub address: String,
    /// `AUTHORITY_EMAIL` (default `info@aki.ee`).
    pub email: String,
    /// `AUTHORITY_URL`, an `https` URL (default `https://www.aki.ee`).
    pub url: String,
}

impl Default for Authority {
    fn default() -> Self {
        Self {
            name: "Andmekaitse Inspektsioon".to_owned(),
            address: "Tatari 39, 10134 Tallinn".to_owned(),
            email: "info@aki.ee".to_owned(),
            url: "https://www.aki.ee".to_owned(),
        }
    }
}

impl Default for Controller {
    fn default() -> Self {
        Self {
            name: "PlanPro OÜ".to_owned(),
            registry_code: None,
            address: None,
            email: "info@planpro.ee".to_owned(),
            policy_url: None,
            storage_location: "EE".to_owned(),
            authority: Authority::default(),
        }
    }
}

/// An `https` URL setting of at most 2000 visible characters.
fn https_url(name: &str, value: &str, problems: &mut Vec<String>) -> Option<String> {
    let url = value.trim();
    let host = url.strip_prefix("https://").unwrap_or_default();
    if host.is_empty() || url.len() > 2000 || !url.bytes().all(|b| b.is_ascii_graphic()) {
        problems.push(format!("{name}: an https URL of at most 2000 characters"));
        None
    } else {
        Some(url.to_owned())
    }
}

/// A free-text setting: one line of visible text, at most `max` characters.
fn text(name: &str, value: String, max: usize, problems: &mut Vec<String>) -> Option<String> {
    let value = value.trim().to_owned();
    let bad = if value.is_empty() {
        Some("must not be empty".to_owned())
    } else if value.chars().count() > max {
        Some(format!("must be at most {max} characters"))
    } else {
        crate::domain::text::check_controls(&value, false).err()
    };
    match bad {
        Some(why) => {
            problems.push(format!("{name}: {why}"));
            None
        }
        None => Some(value),
    }
}

impl Controller {
    /// Reads the settings; every problem is returned, each naming its variable.
    pub fn read(raw: &mut dyn FnMut(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut this = Self::default();
        if let Some(name) = raw("CONTROLLER_NAME") {
            this.name = text("CONTROLLER_NAME", name, 200, &mut problems).unwrap_or(this.name);
        }
        if let Some(code) = raw("CONTROLLER_REGISTRY_CODE") {
            match RegistryCode::parse(code.trim()) {
                Ok(code) => this.registry_code = Some(code),
                Err(why) => problems.push(format!("CONTROLLER_REGISTRY_CODE: {why}")),
            }
        }
        if let Some(address) = raw("CONTROLLER_ADDRESS") {
            this.address = text("CONTROLLER_ADDRESS", address, 500, &mut problems);
        }
        if let Some(email) = raw("CONTROLLER_EMAIL") {
            match Email::parse(email.trim()) {
                Ok(email) => this.email = email.as_str().to_owned(),
                Err(why) => problems.push(format!("CONTROLLER_EMAIL: {why}")),
            }
        }
        if let Some(url) = raw("CONTROLLER_POLICY_URL") {
            this.policy_url = https_url("CONTROLLER_POLICY_URL", &url, &mut problems);
        }
        if let Some(location) = raw("DATA_STORAGE_LOCATION") {
            match CountryCode::parse(location.trim()) {
                Ok(code) => this.storage_location = code.as_str().to_owned(),
                Err(why) => problems.push(format!("DATA_STORAGE_LOCATION: {why}")),
            }
        }
        this.authority = Authority::read(raw, &mut problems);
        (this, problems)
    }
}

impl Authority {
    /// Reads `AUTHORITY_*`; each bad one is added to `problems`, its default kept.
    fn read(raw: &mut dyn FnMut(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let mut this = Self::default();
        if let Some(name) = raw("AUTHORITY_NAME") {
            this.name = text("AUTHORITY_NAME", name, 200, problems).unwrap_or(this.name);
        }
        if let Some(address) = raw("AUTHORITY_ADDRESS") {
            this.address =
                text("AUTHORITY_ADDRESS", address, 500, problems).unwrap_or(this.address);
        }
        if let Some(email) = raw("AUTHORITY_EMAIL") {
            match Email::parse(email.trim()) {
                Ok(email) => this.email = email.as_str().to_owned(),
                Err(why) => problems.push(format!("AUTHORITY_EMAIL: {why}")),
            }
        }
        if let Some(url) = raw("AUTHORITY_URL") {
            this.url = https_url("AUTHORITY_URL", &url, problems).unwrap_or(this.url);
        }
        this
    }
}

static CURRENT: OnceLock<Controller> = OnceLock::new();

/// Installs the configured controller; another one in the same process is refused.
pub fn install(controller: Controller) -> Result<(), String> {
    if *CURRENT.get_or_init(|| controller.clone()) != controller {
        return Err("the CONTROLLER_* settings cannot change while the process runs".into());
    }
    Ok(())
}

/// The installed controller (the defaults before [`install`]).
pub fn current() -> &'static Controller {
    static DEFAULT: OnceLock<Controller> = OnceLock::new();
    CURRENT
        .get()
        .unwrap_or_else(|| DEFAULT.get_or_init(Controller::default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> (Controller, Vec<String>) {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Controller::read(&mut |name| vars.get(name).cloned())
    }

    #[test]
    fn unset_means_the_contracts_defaults() {
        let (controller, problems) = read(&[]);
        assert!(problems.is_empty());
        assert_eq!(controller, Controller::default());
        assert_eq!(controller.name, "PlanPro OÜ");
        assert_eq!(controller.email, "info@planpro.ee");
        assert_eq!(controller.storage_location, "EE");
        assert!(controller.registry_code.is_none() && controller.policy_url.is_none());
        assert_eq!(controller.authority.name, "Andmekaitse Inspektsioon");
        assert_eq!(controller.authority.address, "Tatari 39, 10134 Tallinn");
        assert_eq!(controller.authority.email, "info@aki.ee");
        assert_eq!(controller.authority.url, "https://www.aki.ee");
    }

    #[test]
    fn every_bad_setting_is_named() {
        let (_, problems) = read(&[
            ("CONTROLLER_NAME", " "),
            ("CONTROLLER_REGISTRY_CODE", "12345679"),
            ("CONTROLLER_ADDRESS", "Pikk 1\u{202e}"),
            ("CONTROLLER_EMAIL", "not an address"),
            ("CONTROLLER_POLICY_URL", "http://planpro.ee/privacy"),
            ("DATA_STORAGE_LOCATION", "XX"),
            ("AUTHORITY_NAME", ""),
            ("AUTHORITY_EMAIL", "aki"),
            ("AUTHORITY_URL", "http://www.aki.ee"),
        ]);
        let named: Vec<&str> = problems
            .iter()
            .filter_map(|p| p.split(':').next())
            .collect();
        assert_eq!(
            named,
            [
                "CONTROLLER_NAME",
                "CONTROLLER_REGISTRY_CODE",
                "CONTROLLER_ADDRESS",
                "CONTROLLER_EMAIL",
                "CONTROLLER_POLICY_URL",
                "DATA_STORAGE_LOCATION",
                "AUTHORITY_NAME",
                "AUTHORITY_EMAIL",
                "AUTHORITY_URL"
            ],
            "{problems:?}"
        );
    }

    #[test]
    fn good_settings_are_kept() {
        let (controller, problems) = read(&[
            ("CONTROLLER_NAME", "PlanPro OÜ"),
            ("CONTROLLER_REGISTRY_CODE", "12345678"),
            ("CONTROLLER_POLICY_URL", "https://planpro.ee/privacy"),
            ("DATA_STORAGE_LOCATION", "DE"),
            (
                "AUTHORITY_NAME",
                "Der Hamburgische Beauftragte für Datenschutz",
            ),
            ("AUTHORITY_URL", "https://datenschutz-hamburg.de"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(controller.registry_code.unwrap().as_str(), "12345678");
        assert_eq!(
            controller.policy_url.as_deref(),
            Some("https://planpro.ee/privacy")
        );
        assert_eq!(controller.storage_location, "DE");
        assert_eq!(
            controller.authority.name,
            "Der Hamburgische Beauftragte für Datenschutz"
        );
        assert_eq!(controller.authority.url, "https://datenschutz-hamburg.de");
        assert_eq!(controller.authority.email, "info@aki.ee");
    }
}
