//! Children's consent (IKS §8): a grant of a purpose version with a minimum age, for a subject
//! younger than that on the grant's Tallinn date, needs an adult guardian's consent; a subject
//! without a personal code needs its age confirmed with evidence.

use crate::db::schema::{purpose_versions, purposes};
use crate::domain::ids::SubjectId;
use crate::domain::personal_code::{age_on, PersonalCode};
use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::NaiveDate;
use diesel::prelude::*;

/// The age of majority a guardian must have reached.
const ADULT: i32 = 18;

/// What the caller said about the person's age and guardian.
pub struct Claim<'a> {
    pub guardian: Option<SubjectId>,
    pub age_confirmed: bool,
    /// The purpose version the caller named (a stale one is refused by the batch).
    pub purpose_version: Option<i32>,
    pub purpose: &'a str,
}

/// The outcome: the guardian checked (to record, or to log as refused), and a refusal.
pub struct Verdict {
    pub guardian: Option<SubjectId>,
    pub refusal: Option<ApiError>,
}

fn unprocessable(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, code, detail.to_owned())
}

/// The age by the subject's personal code on `day`, if it has one.
fn age_of(conn: &mut PgConnection, subject: SubjectId, day: NaiveDate) -> ApiResult<Option<i32>> {
    let row = crate::subjects::model::find(conn, subject)?;
    Ok(row
        .data
        .personal_code
        .as_deref()
        .and_then(|code| PersonalCode::parse(code).ok())
        .and_then(|code| code.birth_date())
        .map(|birth| age_on(birth, day)))
}

/// Judges a grant for `subject` on the Tallinn date `day`: 404/410 for an unknown or erased
/// subject or guardian; 422 `guardian-consent-required`, `guardian-not-adult` or `age-unknown`.
pub fn judge(
    conn: &mut PgConnection,
    subject: SubjectId,
    claim: &Claim<'_>,
    day: NaiveDate,
) -> ApiResult<Verdict> {
    let pass = Verdict {
        guardian: None,
        refusal: None,
    };
    let rule: Option<(i32, Option<i32>)> = purposes::table
        .find(claim.purpose)
        .inner_join(
            purpose_versions::table.on(purpose_versions::purpose_id
                .eq(purposes::id)
                .and(purpose_versions::version.eq(purposes::current_version))),
        )
        .select((purposes::current_version, purpose_versions::minimum_age))
        .first(conn)
        .optional()?;
    let Some((current, Some(minimum))) = rule else {
        return Ok(pass);
    };
    if claim.purpose_version.is_some_and(|v| v != current) {
        return Ok(pass);
    }
    let Some(age) = age_of(conn, subject, day)? else {
        return Ok(Verdict {
            refusal: (!claim.age_confirmed).then(|| {
                unprocessable(
                    "age-unknown",
                    "the subject has no personal code: confirm the age with age_confirmed and age_evidence",
                )
            }),
            ..pass
        });
    };
    if age >= minimum {
        return Ok(pass);
    }
    let Some(guardian) = claim.guardian else {
        return Ok(Verdict {
            refusal: Some(unprocessable(
                "guardian-consent-required",
                &format!("the subject is under {minimum}: a guardian must consent"),
            )),
            ..pass
        });
    };
    let adult = guardian != subject
        && age_of(conn, guardian, day)
            .map_err(|e| match e {
                ApiError::Erased(_) => ApiError::not_found("guardian"),
                other => other,
            })?
            .is_some_and(|a| a >= ADULT);
    Ok(Verdict {
        guardian: Some(guardian),
        refusal: (!adult).then(|| {
            unprocessable(
                "guardian-not-adult",
                "the guardian is not 18 or older by their own personal code",
            )
        }),
    })
}
