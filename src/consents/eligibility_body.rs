//! The body of `POST /v1/consents/eligibility`, read fast: up to 100,000 ids, where the generic
//! reader's copies of the JSON tree would be most of the request's time.

use super::api::EligibilityRequest;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{parse_object, strict_value, Validate};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

// The generic reader first builds a JSON tree and copies it, which for 100,000 ids is most of
// the request's time. A well-formed body is deserialized directly (serde's derive refuses a
// repeated member); any other is handed to the generic reader so that the problem names every
// bad field just as elsewhere.

/// The strict, fast form of [`EligibilityRequest`]: anything it refuses goes the slow way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictEligibility {
    purpose: String,
    subject_ids: Vec<SubjectId>,
}

/// Parses an eligibility body, naming every bad field on failure.
pub fn parse_eligibility(body: &[u8]) -> ApiResult<EligibilityRequest> {
    let request = match serde_json::from_slice::<StrictEligibility>(body) {
        Ok(StrictEligibility {
            purpose,
            subject_ids,
        }) => EligibilityRequest {
            purpose,
            subject_ids,
        },
        Err(_) => return explain_eligibility(body),
    };
    let errors = request.validate();
    if errors.is_empty() {
        Ok(request)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// The most malformed ids named one by one; a body can hold 100,000 of them.
const MAX_NAMED_IDS: usize = 100;

/// The slow path of a body the strict reader refused. The generic reader stops at the first bad
/// item of an array (and then misreports the array as missing), so the ids are checked here, each
/// bad one named `subject_ids[i]`, and the rest of the body is left to the generic reader.
fn explain_eligibility(body: &[u8]) -> ApiResult<EligibilityRequest> {
    let Value::Object(mut object) = strict_value(body)? else {
        return parse_object::<EligibilityRequest>(body);
    };
    let mut bad_ids = Vec::new();
    if let Some(Value::Array(items)) = object.get_mut("subject_ids") {
        let bad: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.as_str().is_none_or(|s| Uuid::parse_str(s).is_err()))
            .map(|(i, _)| i)
            .collect();
        for i in bad.iter().take(MAX_NAMED_IDS) {
            bad_ids.push(FieldError::new(
                format!("subject_ids[{i}]"),
                "must be a UUID",
            ));
        }
        if bad.len() > MAX_NAMED_IDS {
            bad_ids.push(FieldError::new(
                "subject_ids",
                format!("{} more ids are not UUIDs", bad.len() - MAX_NAMED_IDS),
            ));
        }
        if !bad.is_empty() {
            items.clear();
        }
    }
    let rest = serde_json::to_vec(&object).map_err(ApiError::internal)?;
    match parse_object::<EligibilityRequest>(&rest) {
        Ok(request) if bad_ids.is_empty() => Ok(request),
        Ok(_) => Err(ApiError::invalid(bad_ids)),
        Err(ApiError::Validation { mut errors, .. }) => {
            errors.extend(bad_ids);
            Err(ApiError::invalid(errors))
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::api::MAX_ELIGIBILITY_IDS;
    use super::*;

    fn fields(error: ApiError) -> Vec<String> {
        match error {
            ApiError::Validation { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_eligibility_body_is_read_directly() {
        let id = SubjectId::new();
        let body = format!(r#"{{"purpose": "p_1", "subject_ids": ["{id}", "{id}"]}}"#);
        let request = parse_eligibility(body.as_bytes()).unwrap();
        assert_eq!(request.purpose, "p_1");
        assert_eq!(request.subject_ids, [id, id]);
    }

    #[test]
    fn a_bad_eligibility_body_names_every_bad_field() {
        let id = Uuid::now_v7();
        let body = format!(r#"{{"purpose": 1, "subject_ids": ["{id}", "nope", 7], "x": 1}}"#);
        assert_eq!(
            fields(parse_eligibility(body.as_bytes()).unwrap_err()),
            ["purpose", "x", "subject_ids[1]", "subject_ids[2]"]
        );
        let many = vec!["\"x\""; MAX_NAMED_IDS + 5].join(",");
        let body = format!(r#"{{"purpose": "p_1", "subject_ids": [{many}]}}"#);
        let named = fields(parse_eligibility(body.as_bytes()).unwrap_err());
        assert_eq!(named.len(), MAX_NAMED_IDS + 1);
        assert_eq!(named.last().map(String::as_str), Some("subject_ids"));
        let body = r#"{"purpose": "p_1", "subject_ids": "all"}"#;
        assert_eq!(
            fields(parse_eligibility(body.as_bytes()).unwrap_err()),
            ["subject_ids"]
        );
        assert_eq!(fields(parse_eligibility(b"[1]").unwrap_err()), ["body"]);
    }

    #[test]
    fn more_than_the_limit_of_ids_is_refused() {
        let ids = vec![format!("\"{}\"", Uuid::nil()); MAX_ELIGIBILITY_IDS + 1].join(",");
        let body = format!(r#"{{"purpose": "p_1", "subject_ids": [{ids}]}}"#);
        assert_eq!(
            fields(parse_eligibility(body.as_bytes()).unwrap_err()),
            ["subject_ids"]
        );
    }
}
