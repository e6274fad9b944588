//! The settings of the accountability registers (contract v3, section D): how strictly reads must
//! name a processing activity, whether persons not yet informed (Art. 14) block disclosures, and
//! the controller the register names.

use super::reader::Reader;

/// `PURPOSE_ENFORCEMENT`: how a staff read that names no active processing activity is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PurposeEnforcement {
    /// `X-Access-Purpose` stays free text, unchecked.
    #[default]
    Off,
    /// Served, and counted in `purpose_unbound_reads_total`.
    Warn,
    /// Refused with 403 `activity-required`, logged `denied`.
    Strict,
}

/// The registers' settings.
#[derive(Debug, Clone)]
pub struct RegisterSettings {
    pub purpose_enforcement: PurposeEnforcement,
    /// `ART14_ENFORCEMENT=block`: disclosures of persons not yet informed are refused.
    pub art14_block: bool,
    /// `CONTROLLER_NAME` (default `PlanPro OÜ`).
    pub controller_name: String,
    /// `CONTROLLER_REGISTRY_CODE`: 8 digits, checked; `None` when unset.
    pub controller_registry_code: Option<String>,
}

impl Default for RegisterSettings {
    fn default() -> Self {
        Self {
            purpose_enforcement: PurposeEnforcement::Off,
            art14_block: false,
            controller_name: DEFAULT_CONTROLLER.to_owned(),
            controller_registry_code: None,
        }
    }
}

const DEFAULT_CONTROLLER: &str = "PlanPro OÜ";

impl RegisterSettings {
    /// Reads the variables; each bad one is added to the reader's problems.
    pub(super) fn read(r: &mut Reader<'_>) -> Self {
        let purpose_enforcement = r.parsed_as(
            "PURPOSE_ENFORCEMENT",
            PurposeEnforcement::Off,
            "off, warn or strict",
            |v| match v {
                "off" => Some(PurposeEnforcement::Off),
                "warn" => Some(PurposeEnforcement::Warn),
                "strict" => Some(PurposeEnforcement::Strict),
                _ => None,
            },
        );
        let art14_block = r.parsed_as("ART14_ENFORCEMENT", false, "off or block", |v| match v {
            "off" => Some(false),
            "block" => Some(true),
            _ => None,
        });
        let controller_name = r
            .raw("CONTROLLER_NAME")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_CONTROLLER.to_owned());
        let controller_registry_code = r.raw("CONTROLLER_REGISTRY_CODE").and_then(|v| {
            match crate::domain::registry_code::RegistryCode::parse(v.trim()) {
                Ok(code) => Some(code.as_str().to_owned()),
                Err(_) => {
                    r.problems.push(
                        "CONTROLLER_REGISTRY_CODE: expected an Estonian registry code of 8 digits with a valid check digit"
                            .to_owned(),
                    );
                    None
                }
            }
        });
        Self {
            purpose_enforcement,
            art14_block,
            controller_name,
            controller_registry_code,
        }
    }
}
