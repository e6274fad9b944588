//! Erasure (Art. 17) as one function that runs inside the caller's transaction, so that the
//! endpoint and a retention run erase exactly alike: the subject's row locked, every consent
//! withdrawn (with its event), every authorization revoked, the personal values destroyed,
//! the erasure recorded and its `subject.erase` entry written, all or nothing.

use super::model::{self, Lock};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::consents::batch::{record_changes, PendingChange};
use crate::db::schema::{consents, disclosure_authorizations as auths, erasures, privacy_requests};
use crate::db::schema::{purposes, subjects};
use crate::domain::consent::{Decision, Method};
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::privacy_request::{RequestKind, RequestStatus};
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, FieldError};
use actix_web::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// What an authorization revoked by an erasure gives as its reason (the erasure's own reason
/// stays in the erasure record).
pub const REVOKED_BY_ERASURE: &str = "the subject was erased";

/// One erasure to carry out.
#[derive(Debug, Clone)]
pub struct EraseCommand {
    /// The subject to erase.
    pub subject_id: SubjectId,
    /// Why, as given: checked here (1 to 500 characters, no hidden text).
    pub reason: String,
    /// The erasure request this answers: it must exist, be an erasure request of this subject
    /// and be open.
    pub privacy_request_id: Option<PrivacyRequestId>,
    /// The `subject.erase` entry; its actor and request id also sign the consent events.
    pub entry: NewEntry,
}

impl EraseCommand {
    /// An erasure done by the service itself (a retention run: actor `system:retention`).
    pub fn by_system(subject_id: SubjectId, actor: &str, request_id: &str, reason: &str) -> Self {
        let actor = Actor::new(actor, &[], None);
        Self {
            subject_id,
            reason: reason.to_owned(),
            privacy_request_id: None,
            entry: NewEntry::for_actor(
                &actor,
                request_id,
                None,
                Action::SubjectErase,
                Some(subject_id.uuid()),
                Outcome::Allowed,
            ),
        }
    }
}

/// The answer of an erasure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Erased {
    /// The erased subject's id.
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    /// When it was erased.
    pub erased_at: DateTime<Utc>,
}

/// Erases the subject in the caller's transaction: 404 when there is no such subject, 410 when
/// it is already erased, 400 naming every bad field (`reason`, `privacy_request_id`), 409
/// `subject-on-hold` while an active hold covers it, 409 `request-closed` when the request it
/// answers is closed. On any error nothing is changed (the caller's transaction rolls back).
pub fn erase(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<Erased> {
    let id = command.subject_id;
    // First, before any other row of the subject: see `model::Lock`.
    let standing = model::standing(conn, id, Lock::Update)?.ok_or_else(super::path::not_found)?;
    if let Some(at) = standing.erased_at {
        return Err(ApiError::Erased(at));
    }
    let reason = checked(conn, command)?;
    if let Some(hold) = crate::holds::active_hold(conn, id)? {
        return Err(ApiError::OnHold(hold));
    }
    withdraw_every_consent(conn, command)?;
    let now = Utc::now().trunc_subsecs(6);
    diesel::update(auths::table)
        .filter(auths::subject_id.eq(id))
        .filter(auths::revoked_at.is_null())
        .set((
            auths::revoked_at.eq(now),
            auths::revoked_reason.eq(REVOKED_BY_ERASURE),
            auths::revoked_by.eq(&command.entry.actor),
        ))
        .execute(conn)?;
    forget_values(conn, id, now)?;
    diesel::insert_into(erasures::table)
        .values((
            erasures::subject_id.eq(id),
            erasures::erased_at.eq(now),
            erasures::actor.eq(&command.entry.actor),
            erasures::reason.eq(reason.as_str()),
            erasures::privacy_request_id.eq(command.privacy_request_id),
            erasures::request_id.eq(&command.entry.request_id),
        ))
        .execute(conn)?;
    access_log::record(conn, std::slice::from_ref(&command.entry))?;
    // Art. 19: one `subject.erased` notice per recipient that received the subject's data (the
    // withdrawals above queued none of their own).
    crate::notices::queue(
        conn,
        &crate::notices::Event::plain(id, crate::domain::notice::NoticeType::Erased),
    )?;
    Ok(Erased {
        subject_id: id,
        erased_at: now,
    })
}

/// Destroys the subject's personal values and marks it erased at `at`: the subject's data key is
/// destroyed (`at_rest::shred_subject`), so every value it sealed, in the subject row, the
/// history tables and stored answers, can no longer be read; the row's ciphertexts and blind
/// indexes are emptied too (which frees the personal code for a new record). The one place that
/// destroys values.
pub fn forget_values(conn: &mut PgConnection, id: SubjectId, at: DateTime<Utc>) -> ApiResult<()> {
    crate::at_rest::shred_subject(conn, id)?;
    diesel::update(subjects::table.find(id))
        .set((subjects::erased_at.eq(at), subjects::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// The reason, and the privacy request checked: one 400 naming every bad field, or 409 for a
/// closed request.
fn checked(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<LongText> {
    let mut errors = Vec::new();
    let reason = LongText::parse(&command.reason)
        .map_err(|message| errors.push(FieldError::new("reason", message)))
        .ok();
    if let Some(request) = command.privacy_request_id {
        // Share-locked, so that the request cannot be closed while it is being answered.
        let found: Option<(String, Option<SubjectId>, String)> = privacy_requests::table
            .find(request)
            .select((
                privacy_requests::kind,
                privacy_requests::subject_id,
                privacy_requests::status,
            ))
            .for_share()
            .first(conn)
            .optional()?;
        let problem = match found {
            None => Some("no privacy request has this id".to_owned()),
            Some((kind, _, _)) if kind != RequestKind::Erasure.as_str() => Some(format!(
                "must name an erasure request, not an `{kind}` request"
            )),
            Some((_, subject, _)) if subject != Some(command.subject_id) => {
                Some("names a request about another subject, or about none".to_owned())
            }
            Some((_, _, status)) if status != RequestStatus::Open.as_str() && errors.is_empty() => {
                return Err(ApiError::client(
                    StatusCode::CONFLICT,
                    "request-closed",
                    "privacy_request_id names a request that is already closed",
                ));
            }
            Some(_) => None,
        };
        if let Some(message) = problem {
            errors.push(FieldError::new("privacy_request_id", message));
        }
    }
    match reason {
        Some(reason) if errors.is_empty() => Ok(reason),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// Every purpose whose flag is not already `withdrawn` becomes so, each with its consent event
/// (method `api`, no evidence) and receipt, exactly as a change through the consent endpoint.
///
/// Notices (Art. 19): an erasure queues one `subject.erased` notice per recipient and no
/// `consent.withdrawn` ones; `record_changes` queues none (only the consent endpoint's batch does).
fn withdraw_every_consent(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<()> {
    let id = command.subject_id;
    let open: Vec<String> = purposes::table
        .left_join(
            consents::table.on(consents::purpose_id
                .eq(purposes::id)
                .and(consents::subject_id.eq(id))),
        )
        .filter(
            consents::status
                .nullable()
                .is_distinct_from(Decision::Withdrawn.as_str()),
        )
        .order(purposes::id)
        .select(purposes::id)
        .load(conn)?;
    let changes: Vec<PendingChange> = open
        .into_iter()
        .map(|purpose_id| PendingChange {
            subject_id: id,
            purpose_id,
            status: Decision::Withdrawn,
            method: Method::Api,
            evidence: None,
            actor: command.entry.actor.clone(),
            request_id: command.entry.request_id.clone(),
            entry: command.entry.clone(),
            idempotency: None,
        })
        .collect();
    record_changes(conn, &changes)?;
    Ok(())
}
