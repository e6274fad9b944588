//! The access-log entries about the person, as they are shown them (`/v1/me/access-log`,
//! `/v1/me/usage`): the actor's kind and the organisation, never the actor (C-579/21), worked
//! out in the database so that no actor leaves it.

use super::Trilingual;
use crate::access_log::actor_kind::{ActorKind, ACTOR_KIND_OF_A};
use crate::disclosures::model::{RECORDED_BY_A, RECORDED_RECIPIENT_OF_A};
use crate::disclosures::withheld::entry_withheld;
use crate::domain::ids::SubjectId;
use crate::domain::language::Language;
use crate::error::ApiResult;
use crate::rights::access_response::api::AccessOrganisation;
use crate::rights::access_response::labels::label;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A stated purpose naming a registered processing activity (`activity:<uuid>`).
const ACTIVITY_PURPOSE: &str =
    "'^activity:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'";

/// One entry about the person, with what they are shown of it.
#[derive(Debug, QueryableByName)]
pub struct SeenRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub outcome: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub purpose: Option<String>,
    #[diesel(sql_type = Text)]
    pub actor_kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_code: Option<String>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    pub categories: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub activity_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub activity_name: Option<serde_json::Value>,
}

/// Which entries, newest first.
pub struct Window {
    /// Only entries older than this one (a cursor).
    pub before: Option<i64>,
    /// Entries to skip.
    pub skip: i64,
    pub take: i64,
    /// Leave out what the person did themselves.
    pub others_only: bool,
}

/// The entries about the person in `window`, newest first, less those withheld from them now.
pub fn about(
    conn: &mut PgConnection,
    subject: SubjectId,
    window: &Window,
) -> ApiResult<Vec<SeenRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT a.seq, a.id, a.at, a.action, a.outcome, a.purpose, \
           {ACTOR_KIND_OF_A} AS actor_kind, r.name AS recipient_name, \
           r.registry_code AS recipient_code, \
           CASE WHEN a.action IN ('disclosure.record', 'partner.read') THEN coalesce( \
             (SELECT array_agg(DISTINCT c ORDER BY c) FROM disclosures d, \
                unnest(d.data_categories) c \
              WHERE d.subject_id = $1 AND {RECORDED_BY_A}), '{{}}') END \
             AS categories, \
           pa.id AS activity_id, pa.doc -> 'name' AS activity_name \
         FROM access_log a \
         LEFT JOIN recipients r ON r.id = coalesce(a.recipient_id, {RECORDED_RECIPIENT_OF_A}) \
         LEFT JOIN processing_activities pa ON pa.id = CASE \
           WHEN a.purpose ~ {ACTIVITY_PURPOSE} THEN substr(a.purpose, 10)::uuid END \
         WHERE a.subject_id = $1 AND ($2::int8 IS NULL OR a.seq < $2) \
           AND NOT ($5 AND {ACTOR_KIND_OF_A} = 'you') AND NOT {withheld} \
         ORDER BY a.seq DESC OFFSET $3 LIMIT $4",
        withheld = entry_withheld("a"),
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .bind::<Nullable<BigInt>, _>(window.before)
    .bind::<BigInt, _>(window.skip)
    .bind::<BigInt, _>(window.take)
    .bind::<Bool, _>(window.others_only)
    .load(conn)?)
}

/// A registered processing activity an entry named as its purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityRef {
    pub id: Uuid,
    /// Its name, in Estonian and English.
    #[schema(value_type = crate::rights::export::Localized)]
    pub name: serde_json::Value,
}

/// One entry about the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    #[schema(value_type = crate::access_log::Action)]
    pub action: String,
    /// What happened, in words.
    pub label: Trilingual,
    pub actor_kind: ActorKind,
    /// Who acted: the recipient for its own calls and for a disclosure to it, else PlanPro.
    pub organisation: AccessOrganisation,
    /// The purpose stated for the call, if any.
    #[schema(required = true)]
    pub purpose: Option<String>,
    /// The processing activity the purpose names, if it names one.
    #[schema(required = true)]
    pub activity: Option<ActivityRef>,
    /// What was disclosed: the data categories of a disclosure; null for other entries.
    #[schema(required = true)]
    pub categories: Option<Vec<String>>,
    #[schema(value_type = crate::access_log::Outcome)]
    pub outcome: String,
    /// Where the entry's inclusion proof is.
    #[schema(example = "/v1/access-logs/0193a6c4-7c1e-7b2a-9d4e-5f6a7b8c9d0e/inclusion-proof")]
    pub proof: String,
}

impl SeenRow {
    /// The organisation that acted: the recipient, else the controller.
    pub fn organisation(&self) -> AccessOrganisation {
        match &self.recipient_name {
            Some(name) => AccessOrganisation {
                name: name.clone(),
                registry_code: self.recipient_code.clone(),
            },
            None => {
                let controller = crate::controller::current();
                AccessOrganisation {
                    name: controller.name.clone(),
                    registry_code: controller
                        .registry_code
                        .as_ref()
                        .map(|c| c.as_str().to_owned()),
                }
            }
        }
    }

    /// As the person's access log shows it.
    pub fn shown(self) -> MyEntry {
        let organisation = self.organisation();
        MyEntry {
            id: self.id,
            at: self.at,
            label: Trilingual {
                et: label(&self.action, Language::Et),
                en: label(&self.action, Language::En),
                ru: label(&self.action, Language::Ru),
            },
            action: self.action,
            actor_kind: ActorKind::of(&self.actor_kind),
            organisation,
            purpose: self.purpose,
            activity: self
                .activity_id
                .zip(self.activity_name)
                .map(|(id, name)| ActivityRef { id, name }),
            categories: self.categories,
            outcome: self.outcome,
            proof: format!("/v1/access-logs/{}/inclusion-proof", self.id),
        }
    }
}
