//! The settings of the accountability registers (contract v3, section D): how strictly reads must
//! name a processing activity, and whether persons not yet informed (Art. 14) block disclosures.

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
#[derive(Debug, Clone, Default)]
pub struct RegisterSettings {
    pub purpose_enforcement: PurposeEnforcement,
    /// `ART14_ENFORCEMENT=block`: disclosures of persons not yet informed are refused.
    pub art14_block: bool,
}

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
        Self {
            purpose_enforcement,
            art14_block,
        }
    }
}
