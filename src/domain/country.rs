//! Countries as ISO 3166-1 alpha-2 codes.

/// An officially assigned ISO 3166-1 alpha-2 code, in upper case (`EE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

/// Every officially assigned code, sorted (the same 249 as tzdata's `iso3166.tab`).
const CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

impl CountryCode {
    /// Accepts an assigned code written in upper case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        if CODES.binary_search(&code).is_ok() {
            Ok(Self(code.to_owned()))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code in upper case, such as EE".to_owned())
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique_so_that_binary_search_works() {
        assert!(CODES.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn assigned_codes_are_accepted() {
        for code in [
            "EE", "FI", "LV", "LT", "SE", "DE", "GB", "US", "AX", "ZW", "AD",
        ] {
            assert_eq!(CountryCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn unassigned_lower_case_and_other_forms_are_refused() {
        for bad in [
            "", "ee", "Ee", "EST", "E", "UK", "EU", "XX", "AA", "ZZ", "E1",
        ] {
            assert!(CountryCode::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
