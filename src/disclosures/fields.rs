//! The checks the disclosure bodies share: texts, category lists and a withholding, each
//! naming the field it refuses.

use crate::domain::disclosure::DataCategory;
use crate::domain::text::check_controls;
use crate::error::FieldError;
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// Checks a required text: not blank, no control characters but line breaks and tabs, at most
/// `max` characters.
pub(super) fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if let Err(message) = check_controls(value, true) {
        errors.push(FieldError::new(field, message));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Checks an optional text: when given, as [`required_text`].
pub(super) fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) {
    if let Some(value) = value {
        required_text(errors, field, value, max);
    }
}

/// Checks a list of categories: at least one, none twice.
pub(super) fn categories(errors: &mut Vec<FieldError>, field: &str, values: &[DataCategory]) {
    if values.is_empty() {
        errors.push(FieldError::new(field, "must name at least one category"));
    } else if values.iter().collect::<BTreeSet<_>>().len() != values.len() {
        errors.push(FieldError::new(field, "must not name a category twice"));
    }
}

/// Checks a withholding: a date after today in Tallinn, with its reason (at most 500
/// characters, no hidden text); a reason without a date is refused too.
pub(super) fn withholding(
    errors: &mut Vec<FieldError>,
    (until_field, until): (&str, Option<NaiveDate>),
    (reason_field, reason): (&str, Option<&str>),
) {
    match (until, reason) {
        (Some(until), reason) => {
            if until <= crate::domain::deadline::tallinn_date(chrono::Utc::now()) {
                errors.push(FieldError::new(
                    until_field,
                    "must be after today (Europe/Tallinn)",
                ));
            }
            match reason {
                Some(reason) => required_text(errors, reason_field, reason, 500),
                None => errors.push(FieldError::new(
                    reason_field,
                    format!("is required with {until_field}"),
                )),
            }
        }
        (None, Some(_)) => errors.push(FieldError::new(
            reason_field,
            format!("is allowed only with {until_field}"),
        )),
        (None, None) => {}
    }
}
