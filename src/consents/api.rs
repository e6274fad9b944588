//! Request and response bodies of the consents resource.

use crate::domain::purpose_id::PurposeId;
use crate::domain::text::check_controls;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{parse_object, BodyLimit, Validate, MAX_JSON_BYTES};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// The longest purpose description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The longest consent evidence, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 2000;
/// The most ids one eligibility check may ask about.
pub const MAX_ELIGIBILITY_IDS: usize = 100_000;

/// An enum stored as text: its JSON names are its stored names (the variants in snake case;
/// a per-variant rename from a macro literal is invisible to utoipa, so the schema would differ).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value of a stored name. The table's check constraint admits no other, so an
            /// unknown name is a bug, not bad input.
            pub fn from_db(text: &str) -> ApiResult<Self> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err(ApiError::internal(format!(
                        concat!("unknown ", stringify!($name), " `{}` in the database"),
                        other
                    ))),
                }
            }
        }
    };
}

text_enum! {
    /// The legal basis of a purpose.
    Basis {
        /// Only with the person's consent.
        OptIn = "opt_in",
        /// Unless the person refused.
        OptOut = "opt_out",
    }
}

text_enum! {
    /// A recorded decision of the person.
    Decision {
        /// The person agreed.
        Granted = "granted",
        /// The person refused or took their consent back.
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// The current state of a consent flag.
    ConsentStatus {
        /// The person agreed.
        Granted = "granted",
        /// The person refused or took their consent back.
        Withdrawn = "withdrawn",
        /// Nothing was ever recorded: the purpose's basis decides.
        Unset = "unset",
    }
}

text_enum! {
    /// How the decision reached PlanPro.
    Method {
        /// A form on a web page.
        WebForm = "web_form",
        /// An e-mail from the person.
        Email = "email",
        /// A phone call.
        Phone = "phone",
        /// Face to face.
        InPerson = "in_person",
        /// A paper letter.
        Letter = "letter",
        /// The unsubscribe link of an offer.
        UnsubscribeLink = "unsubscribe_link",
        /// Another system, through this API.
        Api = "api",
    }
}

impl Basis {
    /// Whether a person with this decision (or none) may be contacted for a purpose of this basis.
    pub fn eligible(self, decision: Option<Decision>) -> bool {
        match (self, decision) {
            (_, Some(Decision::Granted)) | (Basis::OptOut, None) => true,
            (_, Some(Decision::Withdrawn)) | (Basis::OptIn, None) => false,
        }
    }
}

impl From<Option<Decision>> for ConsentStatus {
    fn from(decision: Option<Decision>) -> Self {
        match decision {
            Some(Decision::Granted) => Self::Granted,
            Some(Decision::Withdrawn) => Self::Withdrawn,
            None => Self::Unset,
        }
    }
}

/// A purpose's description in each language.
#[derive(Debug, Serialize, ToSchema)]
pub struct Descriptions {
    /// Estonian.
    pub et: String,
    /// English.
    pub en: String,
}

/// A purpose of processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Purpose {
    /// The purpose's id, used as `{purpose}` in consent paths.
    #[schema(example = "marketing_planpro")]
    pub id: String,
    /// `opt_out`: eligible unless the person refused; `opt_in`: eligible only with consent.
    pub basis: Basis,
    /// What the purpose is, in Estonian and English.
    pub description: Descriptions,
}

/// Every purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeList {
    pub items: Vec<Purpose>,
}

/// The descriptions of a new purpose; both are required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDescriptions {
    /// Estonian, at most 1000 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub et: Option<String>,
    /// English, at most 1000 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub en: Option<String>,
}

/// A purpose to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPurpose {
    /// `^[a-z][a-z0-9_]{1,63}$`.
    #[schema(example = "newsletter")]
    pub id: String,
    pub basis: Basis,
    pub description: NewDescriptions,
}

/// A new purpose whose every field has been checked.
pub struct CheckedPurpose {
    pub id: PurposeId,
    pub basis: Basis,
    pub et: String,
    pub en: String,
}

fn required_text(
    value: Option<&String>,
    field: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = value.map_or("", |v| v.trim());
    if text.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if let Err(message) = check_controls(text, true) {
        errors.push(FieldError::new(field, message));
    } else if text.chars().count() > max_chars {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    text.to_owned()
}

impl NewPurpose {
    /// The checked purpose, or every bad field.
    pub fn check(&self) -> Result<CheckedPurpose, Vec<FieldError>> {
        let mut errors = Vec::new();
        let id = PurposeId::parse(&self.id).map_err(|message| FieldError::new("id", message));
        let et = required_text(
            self.description.et.as_ref(),
            "description.et",
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
        let en = required_text(
            self.description.en.as_ref(),
            "description.en",
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
        match id {
            Ok(id) if errors.is_empty() => Ok(CheckedPurpose {
                id,
                basis: self.basis,
                et,
                en,
            }),
            Ok(_) => Err(errors),
            Err(error) => {
                errors.push(error);
                Err(errors)
            }
        }
    }
}

impl Validate for NewPurpose {
    fn validate(&self) -> Vec<FieldError> {
        self.check().err().unwrap_or_default()
    }
}

/// The state of one consent flag.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    /// The purpose's id.
    pub purpose: String,
    pub status: ConsentStatus,
    /// Whether the person may be contacted for this purpose now.
    pub eligible: bool,
    /// When the flag was last set; null while `unset`.
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A decision to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentChange {
    pub status: Decision,
    pub method: Method,
    /// What proves the decision (a form id, a letter's reference, …), at most 2000 characters.
    pub evidence: Option<String>,
}

impl ConsentChange {
    /// The evidence, trimmed; blank counts as none.
    pub fn evidence(&self) -> Option<String> {
        self.evidence
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    }
}

impl Validate for ConsentChange {
    fn validate(&self) -> Vec<FieldError> {
        let Some(evidence) = self.evidence() else {
            return Vec::new();
        };
        let checked = check_controls(&evidence, true).and_then(|()| {
            if evidence.chars().count() > MAX_EVIDENCE_CHARS {
                Err(format!("must be at most {MAX_EVIDENCE_CHARS} characters"))
            } else {
                Ok(())
            }
        });
        checked
            .err()
            .map(|message| FieldError::new("evidence", message))
            .into_iter()
            .collect()
    }
}

/// The receipt of one recorded decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentEvent {
    pub id: Uuid,
    /// The purpose's id.
    pub purpose: String,
    pub status: Decision,
    pub method: Method,
    pub evidence: Option<String>,
    /// Who recorded it (the token's `sub`).
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The request that recorded it.
    pub request_id: String,
}

/// Which of many subjects may be contacted for a purpose.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EligibilityRequest {
    /// The purpose's id.
    pub purpose: String,
    /// Up to 100,000 subject ids; duplicates are answered once.
    #[schema(max_items = 100_000, example = json!(["0190b6a2-7c3e-7d1a-9f00-2b6c1d8e4a10"]))]
    pub subject_ids: Vec<Uuid>,
}

impl Validate for EligibilityRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.subject_ids.len() > MAX_ELIGIBILITY_IDS {
            errors.push(FieldError::new(
                "subject_ids",
                format!("must hold at most {MAX_ELIGIBILITY_IDS} ids"),
            ));
        }
        if self.purpose.chars().any(char::is_control) || self.purpose.len() > 200 {
            errors.push(FieldError::new("purpose", "is not a purpose id"));
        }
        errors
    }
}

/// The answer of an eligibility check: every distinct id asked about, in exactly one list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Eligibility {
    pub purpose: String,
    /// Subjects that may be contacted for the purpose now.
    pub eligible: Vec<Uuid>,
    /// Subjects that may not.
    pub not_eligible: Vec<Uuid>,
    /// Ids that are no subject.
    pub unknown: Vec<Uuid>,
}

impl TryFrom<super::model::PurposeRow> for Purpose {
    type Error = ApiError;

    fn try_from(row: super::model::PurposeRow) -> ApiResult<Self> {
        Ok(Self {
            basis: Basis::from_db(&row.basis)?,
            id: row.id,
            description: Descriptions {
                et: row.description_et,
                en: row.description_en,
            },
        })
    }
}

impl TryFrom<super::model::FlagRow> for Consent {
    type Error = ApiError;

    fn try_from(row: super::model::FlagRow) -> ApiResult<Self> {
        let decision = row.status.as_deref().map(Decision::from_db).transpose()?;
        Ok(Self {
            eligible: Basis::from_db(&row.basis)?.eligible(decision),
            status: decision.into(),
            purpose: row.purpose,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<super::model::EventRow> for ConsentEvent {
    type Error = ApiError;

    fn try_from(row: super::model::EventRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            purpose: row.purpose_id,
            status: Decision::from_db(&row.status)?,
            method: Method::from_db(&row.method)?,
            evidence: row.evidence,
            actor: row.actor,
            at: row.at,
            request_id: row.request_id,
        })
    }
}

/// The body of an eligibility check, read straight into its typed form.
///
/// [`crate::extract::ValidJson`] first builds a JSON tree and copies it, which for 100,000 ids
/// is most of the request's time. A well-formed body is deserialized directly; any other is
/// handed to the generic reader so that the problem names every bad field just as elsewhere.
pub struct EligibilityBody(pub EligibilityRequest);

/// The strict, fast form of [`EligibilityRequest`]: anything it refuses goes the slow way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictEligibility {
    purpose: String,
    subject_ids: Vec<Uuid>,
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
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
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

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("the body exceeds {limit} bytes"),
    )
}

impl FromRequest for EligibilityBody {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let limit = req.app_data::<BodyLimit>().map_or(MAX_JSON_BYTES, |l| l.0);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::client(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "the body must be application/json",
                )
                .into());
            }
            let body = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    ApiError::invalid_field("body", "the body could not be read")
                }
            })?;
            if body.len() > limit {
                return Err(too_large(limit).into());
            }
            Ok(Self(parse_eligibility(&body)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: ApiError) -> Vec<String> {
        match error {
            ApiError::Validation { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_names_and_schema_names_are_the_stored_names() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_string(&Method::schema()).unwrap();
        for method in [
            Method::WebForm,
            Method::Email,
            Method::Phone,
            Method::InPerson,
            Method::Letter,
            Method::UnsubscribeLink,
            Method::Api,
        ] {
            let json = serde_json::to_value(method).unwrap();
            assert_eq!(json, method.as_str());
            assert!(
                schema.contains(&format!("\"{}\"", method.as_str())),
                "{schema}"
            );
        }
        for status in [
            ConsentStatus::Granted,
            ConsentStatus::Withdrawn,
            ConsentStatus::Unset,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for basis in [Basis::OptIn, Basis::OptOut] {
            assert_eq!(serde_json::to_value(basis).unwrap(), basis.as_str());
        }
    }

    #[test]
    fn eligibility_follows_the_basis_until_a_decision_is_recorded() {
        assert!(Basis::OptOut.eligible(None));
        assert!(!Basis::OptIn.eligible(None));
        for basis in [Basis::OptIn, Basis::OptOut] {
            assert!(basis.eligible(Some(Decision::Granted)));
            assert!(!basis.eligible(Some(Decision::Withdrawn)));
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for method in [Method::WebForm, Method::InPerson, Method::UnsubscribeLink] {
            assert_eq!(Method::from_db(method.as_str()).ok(), Some(method));
            assert_eq!(
                serde_json::to_value(method).ok(),
                Some(serde_json::Value::from(method.as_str()))
            );
        }
        assert!(Decision::from_db("unset").is_err());
    }

    #[test]
    fn a_well_formed_eligibility_body_is_read_directly() {
        let id = Uuid::now_v7();
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

    #[test]
    fn new_purposes_are_checked_field_by_field() {
        let purpose: NewPurpose = serde_json::from_value(serde_json::json!({
            "id": "Bad-Id", "basis": "opt_in", "description": {"et": "  ", "en": "x".repeat(1001)}
        }))
        .unwrap();
        let mut named: Vec<_> = purpose.validate().into_iter().map(|e| e.field).collect();
        named.sort();
        assert_eq!(named, ["description.en", "description.et", "id"]);
    }
}
