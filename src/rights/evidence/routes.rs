//! `GET /v1/evidence-bundle?subject_id=`: parse, authorize (two scopes), gather in one snapshot,
//! zip and sign, log, answer.

use super::{archive, contents};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::pagination::Params;
use crate::paths;
use crate::responses::{Bearer, LogUnavailable};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A zip archive.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct EvidenceZip(pub Vec<u8>);

/// The required `subject_id`: every problem with it named in one 400 (after the scope checks,
/// so that a refused caller learns nothing of the query).
fn subject_of(present: bool, params: Params, subject: Option<Uuid>) -> ApiResult<SubjectId> {
    let mut errors = match params.finish() {
        Ok(()) => Vec::new(),
        Err(ApiError::Validation { errors, .. }) => errors,
        Err(other) => return Err(other),
    };
    if !present {
        errors.push(FieldError::new("subject_id", "is required"));
    }
    match subject {
        Some(id) if errors.is_empty() => Ok(SubjectId(id)),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// Gathers the evidence about one person into a zip anyone can check offline.
///
/// Needs `subjects:read` and `access-logs:read`. The zip holds `manifest.json` (`format`
/// `planpro-evidence/1`, `subject_id`, `generated_at`, and `files`: each other file's `path`,
/// `sha256` (hex) and `bytes`), `manifest.jws` (a compact EdDSA JWS, typ
/// `evidence-manifest+jws`, carrying the manifest's exact bytes; the key is in
/// `/.well-known/jwks.json`), the person's data (`subject.json`, `consent_events.json`,
/// `authorizations.json`, `disclosures.json`, `notifications.json`, `information_notices.json`:
/// the export's parts), every consent receipt (`receipts/<event id>.jws`), every access-log
/// entry about the person, actors included (`access_log.ndjson`), the inclusion proof of each
/// one the latest checkpoint holds (`proofs/<entry id>.json`, the object
/// `/v1/access-logs/{entry_id}/inclusion-proof` answers, at `checkpoint.txt`'s size), the ids of
/// the others (`pending.json`), that checkpoint (`checkpoint.txt`), its verifier key
/// (`checkpoint-key.txt`) and the receipt keys (`jwks.json`); no directory entries. For an
/// erased person the data files list ids only and there are no receipts. Check it with
/// `planpro-privacy verify-bundle`. Writes `evidence.read` once the bundle is made (that entry
/// is not inside it).
#[utoipa::path(get, path = paths::EVIDENCE_BUNDLE, tag = "subjects", security(("bearer" = [])),
    params(("subject_id" = Uuid, Query, description = "The subject's id")),
    responses(
        (status = 200, description = "The bundle: `application/zip`, or `application/octet-stream` when `Accept` prefers it (for generated clients that read only that type as a file)", content(
            (EvidenceZip = "application/zip"),
            (EvidenceZip = "application/octet-stream"),
        )),
        (status = 400, description = "`subject_id` missing or not a UUID, or an unknown parameter, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `subjects:read` or `access-logs:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No checkpoint has been signed yet (`not-yet-checkpointed`, with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        Bearer, LogUnavailable,
    ))]
pub async fn evidence_bundle(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let present = query.contains_key("subject_id");
    let mut params = Params::new(query);
    let parsed: Option<Uuid> = params.parsed("subject_id", "a UUID");
    let about = parsed.map(SubjectId);
    let action = Action::EvidenceRead;
    state
        .authorize(&caller, Scope::SubjectsRead, action, about)
        .await?;
    state
        .authorize(&caller, Scope::AccessLogsRead, action, about)
        .await?;
    let id = subject_of(present, params, parsed)?;
    state
        .db
        .run(move |conn| contents::prepare(conn, id))
        .await?;
    let checkpoint_key = state.sealer.proofs().signer.verifier_key();
    let bundle = state
        .db
        .run(move |conn| {
            let generated_at = Utc::now().trunc_subsecs(6);
            let Some(files) = contents::gather(conn, id, checkpoint_key)? else {
                return Ok(None);
            };
            archive::write(id, generated_at, files, crate::receipts::key()?).map(Some)
        })
        .await?;
    let Some(bundle) = bundle else {
        return Ok(crate::access_log::proofs::not_yet(
            &state,
            "no checkpoint has been signed yet",
        ));
    };
    state
        .log_reads(vec![caller.entry(action, Some(id), Outcome::Allowed)])
        .await?;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let media =
        crate::media_type::preferred(accept, &["application/zip", "application/octet-stream"])
            .unwrap_or("application/zip");
    Ok(HttpResponse::Ok()
        .content_type(media)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"evidence-{id}.zip\""),
        ))
        .body(bundle))
}
