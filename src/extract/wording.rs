//! Serde's messages in the contract's words. Serde speaks of Rust types ("invalid type: integer
//! `49403136526`, expected a string", "unknown variant `web`, expected one of …", "UUID parsing
//! failed …") and quotes the value it refused, which may be personal data. A problem instead says
//! what was expected, in JSON's terms, and never repeats the value.

/// A UUID as the contract's examples write one.
pub const UUID_EXAMPLE: &str = "0190b6a2-7c3e-7d1a-9f00-2b6c1d8e4a10";

/// What a field should have been, from one serde message about it.
pub fn expected(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match rest.split_once("expected one of ") {
            Some((_, list)) => format!("must be one of {}", list.replace('`', "")),
            None => match rest.split_once("expected ") {
                Some((_, only)) => format!("must be {}", only.replace('`', "")),
                None => "is not one of the accepted values".to_owned(),
            },
        };
    }
    if message.starts_with("missing field ") {
        return "is required".to_owned();
    }
    if message.starts_with("unknown field ") {
        return "unknown field".to_owned();
    }
    if message.starts_with("duplicate field ") {
        return "appears more than once".to_owned();
    }
    if is_uuid_message(message) {
        return format!("must be a UUID, such as {UUID_EXAMPLE}");
    }
    if is_timestamp_message(message) {
        return "must be an RFC 3339 timestamp in UTC, such as 2026-11-01T10:00:00Z".to_owned();
    }
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((_, wanted)) = rest.rsplit_once("expected ") {
                return format!("must be {}", json_kind(wanted));
            }
        }
    }
    // A message of our own (a validator's) is already in plain words; anything else is not
    // repeated, since it may quote the value.
    if message.starts_with("must ") || message.starts_with("is ") {
        return message.to_owned();
    }
    "has the wrong form".to_owned()
}

fn is_uuid_message(message: &str) -> bool {
    message.contains("UUID parsing failed")
        || message.contains("expected UUID")
        || message.contains("a UUID")
        || message.contains("invalid group")
        || message.contains("invalid character: expected an optional prefix of `urn:uuid:`")
}

fn is_timestamp_message(message: &str) -> bool {
    [
        "premature end of input",
        "input contains invalid characters",
        "input is out of range",
        "trailing input",
        "input is not enough for unique date and time",
        "a formatted date and time string",
        "an RFC 3339",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Serde's name for an expected type, as a JSON type.
fn json_kind(wanted: &str) -> String {
    let wanted = wanted.trim().trim_end_matches('.');
    let integer = [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize",
    ];
    match wanted {
        "a string" | "a borrowed string" | "a character" | "a char" => "a string".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" | "a tuple" => "an array".to_owned(),
        "a map" | "unit" => "an object".to_owned(),
        w if integer.contains(&w) => {
            if w.starts_with('u') {
                "a whole number, 0 or more".to_owned()
            } else {
                "a whole number".to_owned()
            }
        }
        w if w.starts_with("struct ") || w.starts_with("enum ") => "an object".to_owned(),
        w if w.starts_with("an array") || w.starts_with("a sequence") => "an array".to_owned(),
        w if w.contains("UUID") => format!("a UUID, such as {UUID_EXAMPLE}"),
        w if w.starts_with("a ") || w.starts_with("an ") || w.starts_with("one of") => {
            w.replace('`', "")
        }
        _ => "of another type".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::expected;

    #[test]
    fn rust_wording_becomes_the_contracts_and_values_are_not_repeated() {
        let cases = [
            ("invalid type: integer `49403136526`, expected a string", "must be a string"),
            ("invalid type: string \"x\", expected u32", "must be a whole number, 0 or more"),
            ("invalid type: map, expected a sequence", "must be an array"),
            ("invalid type: string \"yes\", expected a boolean", "must be true or false"),
            ("invalid type: integer `5`, expected struct Address", "must be an object"),
            (
                "unknown variant `web`, expected one of `web_form`, `email`",
                "must be one of web_form, email",
            ),
            (
                "UUID parsing failed: invalid length: expected length 32 for simple format, found 3",
                "must be a UUID, such as 0190b6a2-7c3e-7d1a-9f00-2b6c1d8e4a10",
            ),
            ("premature end of input", "must be an RFC 3339 timestamp in UTC, such as 2026-11-01T10:00:00Z"),
            ("missing field `kind`", "is required"),
            ("something odd about 49403136526", "has the wrong form"),
        ];
        for (serde, plain) in cases {
            assert_eq!(expected(serde), plain, "{serde}");
        }
    }
}
