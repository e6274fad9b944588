//! What the recipient registry stores about an organisation: its category and status.

use super::stored::stored_enum;

stored_enum! {
    /// The kinds of organisation that may receive personal data (privacy policy, principle 10).
    RecipientCategory {
        /// A service provider that has joined the platform.
        PlatformServiceProvider = "platform_service_provider",
        /// A representative of a local government.
        LocalGovernment = "local_government",
        /// A software development service provider.
        SoftwareDevelopmentProvider = "software_development_provider",
        /// A public authority receiving data that a law requires to be disclosed.
        PublicAuthority = "public_authority",
    }
}

stored_enum! {
    /// Whether a recipient may receive data now.
    RecipientStatus {
        /// Receives what its authorizations cover.
        Active = "active",
        /// Receives nothing, whatever its authorizations say.
        Suspended = "suspended",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_others_are_refused() {
        assert_one_spelling(RecipientCategory::ALL, RecipientCategory::as_str);
        assert_one_spelling(RecipientStatus::ALL, RecipientStatus::as_str);
        assert!(RecipientCategory::parse("bank").is_err());
        assert!(RecipientStatus::from_db("deleted").is_err());
    }
}
