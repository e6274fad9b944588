//! E-mail addresses, checked pragmatically rather than by the whole of RFC 5322.

/// An e-mail address: one `@`, a local part of at most 64 characters and a domain name of
/// letter/digit/hyphen labels; at most 254 characters. The domain is kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks the address and lower-cases its domain.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.chars().count() > 254 {
            return Err("must be at most 254 characters".to_owned());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".to_owned());
        }
        let Some((local, domain)) = text.split_once('@') else {
            return Err("must contain an @".to_owned());
        };
        if domain.contains('@') {
            return Err("must contain only one @".to_owned());
        }
        if local.is_empty() || local.chars().count() > 64 {
            return Err("must have a local part of 1 to 64 characters before the @".to_owned());
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(
                "must not have a dot at either end of the local part, or two in a row".to_owned(),
            );
        }
        check_domain(domain)?;
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("must have a domain with a dot, such as example.ee".to_owned());
    }
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return Err(
            "must have a domain of labels made of letters, digits and inner hyphens".to_owned(),
        );
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("must have a domain whose last label is not a number".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_addresses_are_accepted_with_the_domain_lower_cased() {
        assert_eq!(
            Email::parse(" Mari.Maasikas+x@Example.EE ")
                .unwrap()
                .as_str(),
            "Mari.Maasikas+x@example.ee"
        );
        assert!(Email::parse("a@b-c.d.ee").is_ok());
        assert!(Email::parse(&format!("{}@example.ee", "a".repeat(64))).is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "mari",
            "@example.ee",
            "mari@",
            "mari@example",
            "mari@@example.ee",
            "mari@ex@ample.ee",
            "ma ri@example.ee",
            "mari@exa mple.ee",
            "mari\u{7}@example.ee",
            "mari@-example.ee",
            "mari@example-.ee",
            "mari@example..ee",
            "mari@exam_ple.ee",
            "mari@õun.ee",
            "mari@1.2",
            ".mari@example.ee",
            "mari.@example.ee",
            "ma..ri@example.ee",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lengths_are_bounded() {
        assert!(Email::parse(&format!("{}@example.ee", "a".repeat(65))).is_err());
        let long_domain = format!("{}.ee", vec!["a".repeat(63); 4].join("."));
        assert!(Email::parse(&format!("m@{long_domain}")).is_err());
        assert!(Email::parse(&format!("m@{}.ee", "a".repeat(64))).is_err());
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(text in any::<String>()) {
            let _ = Email::parse(&text);
        }

        #[test]
        fn parsing_address_like_text_never_panics(text in "[a-zA-Z0-9.@_%'+\\-õ\u{301}\u{200d}😀 ]{0,80}") {
            let _ = Email::parse(&text);
        }

        #[test]
        fn an_accepted_address_is_accepted_again_unchanged(text in "[a-zA-Z0-9.@_%'+\\-]{0,40}") {
            if let Ok(email) = Email::parse(&text) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                prop_assert!(!email.as_str().chars().any(|c| c.is_whitespace() || c.is_control()));
            }
        }

        #[test]
        fn ordinary_addresses_are_accepted(
            local in "[a-z0-9_%'+\\-]{1,20}", domain in "[a-z][a-z0-9]{0,10}", tld in "[a-z]{2,6}"
        ) {
            let address = format!("{local}@{domain}.{tld}");
            prop_assert_eq!(Email::parse(&address).map(|e| e.as_str().to_owned()), Ok(address));
        }
    }
}
