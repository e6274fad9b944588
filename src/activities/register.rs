//! The register of processing activities (Art. 30(1)) as of a date, in JSON or CSV, signed: a
//! detached JWS over the exact bytes of the answer, so that a copy handed to an authority can be
//! checked against `/.well-known/jwks.json`.

use super::api::Activity;
use super::model;
use super::routes::version;
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::error::{ApiError, ApiResult, Problem};
use crate::paths;
use crate::responses::{Auth, RopaRead, Unavailable};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Signature-JWS";
/// The JWS `typ` of a signed register.
pub const TYP: &str = "ropa+jws";

/// The controller the register names.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterController {
    pub name: String,
    #[schema(required = true)]
    pub registry_code: Option<String>,
}

/// The register as of a date.
#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub controller: RegisterController,
    pub as_of: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// The activities active at the end of `as_of` (Europe/Tallinn), as they then stood.
    pub activities: Vec<Activity>,
}

/// The first moment after a Tallinn date.
pub fn end_of(day: NaiveDate) -> ApiResult<DateTime<Utc>> {
    day.succ_opt()
        .and_then(crate::domain::retention::tallinn_midnight)
        .ok_or_else(|| ApiError::invalid_field("as_of", "is out of the calendar's range"))
}

/// A `YYYY-MM-DD` parameter.
pub fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| "must be a date such as 2026-12-01".to_owned())
}

/// The records of processing activities as of a date.
///
/// `as_of` (default: today, Europe/Tallinn; not in the future) selects the activities that were
/// active at the end of that day, each as it then stood. `format=csv` gives one row per activity
/// (spreadsheet-safe cells). `X-Signature-JWS` is a detached compact JWS (`EdDSA`, `typ`
/// `ropa+jws`, the receipt key of `/.well-known/jwks.json`) over the exact bytes of the body.
/// Writes no access-log entry: the register holds no personal data.
#[utoipa::path(get, path = paths::ROPA, tag = "records-of-processing", security(("bearer" = [])),
    params(
        ("format" = Option<String>, Query, description = "`json` (the default) or `csv`"),
        ("as_of" = Option<NaiveDate>, Query, description = "A past or today's date (default: today)"),
    ),
    responses(
        (status = 200, description = "The register", body = Register,
            content((Register = "application/json"), (String = "text/csv")),
            headers(("X-Signature-JWS" = String, description = "Detached compact JWS over the body"))),
        (status = 400, description = "A bad parameter (a future `as_of`), named", body = Problem, content_type = "application/problem+json"),
        Auth<RopaRead>, Unavailable,
    ))]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RopaRead)?;
    let mut params = crate::pagination::Params::new(query.into_inner());
    let csv = params.with("format", |f| match f {
        "json" => Ok(false),
        "csv" => Ok(true),
        _ => Err("must be `json` or `csv`".to_owned()),
    });
    let today = tallinn_date(Utc::now());
    let as_of = params.with("as_of", |d| {
        date(d).and_then(|d| {
            if d > today {
                Err("must not be in the future".to_owned())
            } else {
                Ok(d)
            }
        })
    });
    params.finish()?;
    let as_of = as_of.unwrap_or(today);
    let moment = end_of(as_of)?;
    let rows = state
        .db
        .run(move |conn| {
            let versions = model::active_at(conn, moment)?;
            let mut out = Vec::with_capacity(versions.len());
            for v in versions {
                let current = model::find(conn, v.activity_id)?;
                out.push(version(&current, &v)?.activity);
            }
            Ok(out)
        })
        .await?;
    let configured = crate::controller::current();
    let register = Register {
        controller: RegisterController {
            name: configured.name.clone(),
            registry_code: configured
                .registry_code
                .as_ref()
                .map(|c| c.as_str().to_owned()),
        },
        as_of,
        generated_at: Utc::now(),
        activities: rows,
    };
    let (body, content_type) = if csv.unwrap_or(false) {
        (to_csv(&register)?, "text/csv; charset=utf-8")
    } else {
        (
            serde_json::to_vec(&register).map_err(ApiError::internal)?,
            "application/json",
        )
    };
    let signature = crate::receipts::key()?.detached(TYP, &body);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((SIGNATURE_HEADER, signature))
        .body(body))
}

const CSV_HEADER: &str = "id,version,status,name_et,name_en,controller,purposes,legal_basis,\
subject_kinds,data_categories,recipient_categories,transfers,retention,security_measures,owner,\
reviewed_at,updated_at\n";

fn to_csv(register: &Register) -> ApiResult<Vec<u8>> {
    let mut out = String::from(CSV_HEADER);
    for a in &register.activities {
        let b = &a.body;
        let cells = [
            a.meta.id.to_string(),
            a.meta.version.to_string(),
            b.status.map(|s| s.as_str()).unwrap_or("active").to_owned(),
            b.name.et.clone(),
            b.name.en.clone(),
            b.controller
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            b.purposes.join(" "),
            b.legal_basis
                .as_ref()
                .map(|l| format!("{} {}", l.article.as_str(), l.reference))
                .unwrap_or_default(),
            b.subject_kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            b.data_categories
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            b.recipient_categories
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            json(&b.transfers),
            json(&b.retention),
            b.security_measures.join("; "),
            b.owner.clone(),
            b.reviewed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            a.meta.updated_at.to_rfc3339(),
        ];
        crate::csv::row(&mut out, &cells);
    }
    Ok(out.into_bytes())
}

/// A nested value shown in one CSV cell, as compact JSON.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
