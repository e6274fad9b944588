//! The access log: one entry per subject touched by every request that reads or changes personal
//! data, and per refused attempt. Changes write their entries with [`record`] inside their own
//! transaction; reads hand theirs to the group-commit [`writer::LogWriter`] and answer only once
//! it has committed.

pub mod actor_kind;
pub mod audit;
pub mod chain;
mod chain_walk;
pub mod checkpoint;
pub mod group_commit;
pub mod keyed;
pub mod merkle;
pub mod model;
pub mod proof_set;
pub mod proofs;
pub mod proving;
pub mod purpose;
pub mod rollback;
pub mod routes;
pub mod sealer;
pub mod sealing;
pub mod tree;
pub mod unkeyed;
pub mod verify;
pub mod witness;
pub mod writer;

use crate::auth::Actor;
use crate::db::schema::access_log;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What was done; the names are part of the contract so that scripts can filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub enum Action {
    #[serde(rename = "subject.create")]
    SubjectCreate,
    #[serde(rename = "subject.read")]
    SubjectRead,
    #[serde(rename = "subject.list")]
    SubjectList,
    #[serde(rename = "subject.rectify")]
    SubjectRectify,
    #[serde(rename = "subject.export")]
    SubjectExport,
    #[serde(rename = "consent.read")]
    ConsentRead,
    #[serde(rename = "consent.change")]
    ConsentChange,
    #[serde(rename = "consent.eligibility")]
    ConsentEligibility,
    #[serde(rename = "disclosure.authorize")]
    DisclosureAuthorize,
    #[serde(rename = "disclosure.read")]
    DisclosureRead,
    #[serde(rename = "disclosure.revoke")]
    DisclosureRevoke,
    #[serde(rename = "disclosure.record")]
    DisclosureRecord,
    #[serde(rename = "partner.read")]
    PartnerRead,
    #[serde(rename = "partner.list")]
    PartnerList,
    #[serde(rename = "access_log.read")]
    AccessLogRead,
    #[serde(rename = "consent.receipt")]
    ConsentReceipt,
    #[serde(rename = "request.create")]
    RequestCreate,
    #[serde(rename = "request.update")]
    RequestUpdate,
    #[serde(rename = "request.read")]
    RequestRead,
    #[serde(rename = "retention.read")]
    RetentionRead,
    #[serde(rename = "retention.run")]
    RetentionRun,
    /// A retention rule created or changed (added by the service: the contract names none).
    #[serde(rename = "retention.update")]
    RetentionUpdate,
    #[serde(rename = "notification.read")]
    NotificationRead,
    #[serde(rename = "notification.update")]
    NotificationUpdate,
    #[serde(rename = "notification.send")]
    NotificationSend,
    #[serde(rename = "subject.erase")]
    SubjectErase,
    #[serde(rename = "subject.restrict")]
    SubjectRestrict,
    #[serde(rename = "subject.restriction_lift")]
    SubjectRestrictionLift,
    #[serde(rename = "hold.create")]
    HoldCreate,
    #[serde(rename = "hold.release")]
    HoldRelease,
    #[serde(rename = "hold.read")]
    HoldRead,
    #[serde(rename = "consent.confirm")]
    ConsentConfirm,
    #[serde(rename = "consent.export")]
    ConsentExport,
    #[serde(rename = "purpose.version")]
    PurposeVersion,
    #[serde(rename = "ropa.update")]
    RopaUpdate,
    #[serde(rename = "breach.create")]
    BreachCreate,
    #[serde(rename = "breach.update")]
    BreachUpdate,
    #[serde(rename = "breach.read")]
    BreachRead,
    #[serde(rename = "breach.scope")]
    BreachScope,
    #[serde(rename = "art14.update")]
    Art14Update,
    #[serde(rename = "art14.read")]
    Art14Read,
    #[serde(rename = "notification.outcome")]
    NotificationOutcome,
    /// An operator accepted a rollback of the log (`planpro-privacy accept-rollback`).
    #[serde(rename = "access_log.rollback")]
    AccessLogRollback,
    #[serde(rename = "access_response.read")]
    AccessResponseRead,
    #[serde(rename = "access_response.freeze")]
    AccessResponseFreeze,
    #[serde(rename = "download.read")]
    DownloadRead,
    #[serde(rename = "evidence.read")]
    EvidenceRead,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 47] = [
        Action::SubjectCreate,
        Action::SubjectRead,
        Action::SubjectList,
        Action::SubjectRectify,
        Action::SubjectExport,
        Action::ConsentRead,
        Action::ConsentChange,
        Action::ConsentEligibility,
        Action::DisclosureAuthorize,
        Action::DisclosureRead,
        Action::DisclosureRevoke,
        Action::DisclosureRecord,
        Action::PartnerRead,
        Action::PartnerList,
        Action::AccessLogRead,
        Action::ConsentReceipt,
        Action::RequestCreate,
        Action::RequestUpdate,
        Action::RequestRead,
        Action::RetentionRead,
        Action::RetentionRun,
        Action::RetentionUpdate,
        Action::NotificationRead,
        Action::NotificationUpdate,
        Action::NotificationSend,
        Action::SubjectErase,
        Action::SubjectRestrict,
        Action::SubjectRestrictionLift,
        Action::HoldCreate,
        Action::HoldRelease,
        Action::HoldRead,
        Action::ConsentConfirm,
        Action::ConsentExport,
        Action::PurposeVersion,
        Action::RopaUpdate,
        Action::BreachCreate,
        Action::BreachUpdate,
        Action::BreachRead,
        Action::BreachScope,
        Action::Art14Update,
        Action::Art14Read,
        Action::NotificationOutcome,
        Action::AccessLogRollback,
        Action::AccessResponseRead,
        Action::AccessResponseFreeze,
        Action::DownloadRead,
        Action::EvidenceRead,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SubjectCreate => "subject.create",
            Action::SubjectRead => "subject.read",
            Action::SubjectList => "subject.list",
            Action::SubjectRectify => "subject.rectify",
            Action::SubjectExport => "subject.export",
            Action::ConsentRead => "consent.read",
            Action::ConsentChange => "consent.change",
            Action::ConsentEligibility => "consent.eligibility",
            Action::DisclosureAuthorize => "disclosure.authorize",
            Action::DisclosureRead => "disclosure.read",
            Action::DisclosureRevoke => "disclosure.revoke",
            Action::DisclosureRecord => "disclosure.record",
            Action::PartnerRead => "partner.read",
            Action::PartnerList => "partner.list",
            Action::AccessLogRead => "access_log.read",
            Action::ConsentReceipt => "consent.receipt",
            Action::RequestCreate => "request.create",
            Action::RequestUpdate => "request.update",
            Action::RequestRead => "request.read",
            Action::RetentionRead => "retention.read",
            Action::RetentionRun => "retention.run",
            Action::RetentionUpdate => "retention.update",
            Action::NotificationRead => "notification.read",
            Action::NotificationUpdate => "notification.update",
            Action::NotificationSend => "notification.send",
            Action::SubjectErase => "subject.erase",
            Action::SubjectRestrict => "subject.restrict",
            Action::SubjectRestrictionLift => "subject.restriction_lift",
            Action::HoldCreate => "hold.create",
            Action::HoldRelease => "hold.release",
            Action::HoldRead => "hold.read",
            Action::ConsentConfirm => "consent.confirm",
            Action::ConsentExport => "consent.export",
            Action::PurposeVersion => "purpose.version",
            Action::RopaUpdate => "ropa.update",
            Action::BreachCreate => "breach.create",
            Action::BreachUpdate => "breach.update",
            Action::BreachRead => "breach.read",
            Action::BreachScope => "breach.scope",
            Action::Art14Update => "art14.update",
            Action::Art14Read => "art14.read",
            Action::NotificationOutcome => "notification.outcome",
            Action::AccessLogRollback => "access_log.rollback",
            Action::AccessResponseRead => "access_response.read",
            Action::AccessResponseFreeze => "access_response.freeze",
            Action::DownloadRead => "download.read",
            Action::EvidenceRead => "evidence.read",
        }
    }

    /// Whether the action reads personal data (`*.read`, `*.list`, `*.export`,
    /// `access_response.*`): the calls whose stated purpose a purpose rule judges.
    pub fn is_read(self) -> bool {
        let name = self.as_str();
        name.ends_with(".read")
            || name.ends_with(".list")
            || name.ends_with(".export")
            || name.starts_with("access_response.")
    }

    /// The action with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Whether the attempt was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// An entry about to be appended. It holds ids, never names or e-mails.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = access_log)]
pub struct NewEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub recipient_id: Option<Uuid>,
    pub action: String,
    pub subject_id: Option<Uuid>,
    pub outcome: String,
    pub purpose: Option<String>,
    pub request_id: String,
    pub count: Option<i32>,
}

impl NewEntry {
    /// An entry for a request of `actor` about one subject (or none); handlers build it with
    /// [`crate::caller::Caller::entry`].
    pub fn for_actor(
        actor: &Actor,
        request_id: &str,
        purpose: Option<&str>,
        action: Action,
        subject_id: Option<Uuid>,
        outcome: Outcome,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            // Postgres keeps microseconds; the hash chain must see what is stored.
            at: Utc::now().trunc_subsecs(6),
            actor: actor.sub.clone(),
            recipient_id: actor.recipient_id,
            action: action.as_str().to_owned(),
            subject_id,
            outcome: outcome.as_str().to_owned(),
            purpose: purpose.map(str::to_owned),
            request_id: request_id.to_owned(),
            count: None,
        }
    }

    /// The same entry with a count (bulk operations log one entry with the number of ids).
    pub fn with_count(mut self, count: usize) -> Self {
        self.count = Some(i32::try_from(count).unwrap_or(i32::MAX));
        self
    }
}

/// The new entry's members as its leaf data reads them (and its MAC covers).
impl<'a> From<&'a NewEntry> for keyed::Fields<'a> {
    fn from(e: &'a NewEntry) -> Self {
        Self {
            id: &e.id,
            at: &e.at,
            actor: &e.actor,
            recipient_id: e.recipient_id.as_ref(),
            action: &e.action,
            subject_id: e.subject_id.as_ref(),
            outcome: &e.outcome,
            purpose: e.purpose.as_deref(),
            request_id: &e.request_id,
            count: e.count,
        }
    }
}

/// Appends entries on the caller's connection: inside a transaction, they commit with the change.
/// Each carries its MAC under the access-log key: this is the only way entries are written.
pub fn record(conn: &mut PgConnection, entries: &[NewEntry]) -> ApiResult<()> {
    let key = keyed::key().ok_or_else(|| ApiError::internal("no access-log key installed"))?;
    for chunk in entries.chunks(5000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|entry| (entry, access_log::mac.eq(key.mac(&keyed::leaf_data(entry)))))
            .collect();
        diesel::insert_into(access_log::table)
            .values(rows)
            .execute(conn)?;
    }
    Ok(())
}

/// Every entry about the subject, oldest first, for the right-of-access export.
pub fn export_for(conn: &mut PgConnection, subject_id: SubjectId) -> ApiResult<serde_json::Value> {
    let entries = access_log::table
        .filter(access_log::subject_id.eq(subject_id))
        .order(access_log::seq)
        .select(model::Entry::as_select())
        .load::<model::Entry>(conn)?;
    serde_json::to_value(entries).map_err(ApiError::internal)
}
