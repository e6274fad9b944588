//! Ids that cannot be swapped: each kind of record has its own id type over a UUID, so a subject
//! id cannot be passed where a recipient id belongs. They are stored as `uuid`, travel as JSON
//! strings and show in the OpenAPI document as `format: uuid` strings.

use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Uuid as SqlUuid;
use std::fmt;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {
        $(
            $(#[$meta])*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                serde::Serialize, serde::Deserialize, AsExpression, FromSqlRow,
            )]
            #[serde(transparent)]
            #[diesel(sql_type = SqlUuid)]
            pub struct $name(pub Uuid);

            impl $name {
                /// A new, time-ordered id (UUIDv7).
                pub fn new() -> Self {
                    Self(Uuid::now_v7())
                }

                /// The UUID itself.
                pub fn uuid(self) -> Uuid {
                    self.0
                }
            }

            impl Default for $name {
                fn default() -> Self {
                    Self::new()
                }
            }

            impl From<Uuid> for $name {
                fn from(id: Uuid) -> Self {
                    Self(id)
                }
            }

            impl From<$name> for Uuid {
                fn from(id: $name) -> Self {
                    id.0
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt(f)
                }
            }

            impl std::str::FromStr for $name {
                type Err = uuid::Error;

                fn from_str(text: &str) -> Result<Self, Self::Err> {
                    Uuid::parse_str(text).map(Self)
                }
            }

            impl ToSql<SqlUuid, Pg> for $name {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
                    <Uuid as ToSql<SqlUuid, Pg>>::to_sql(&self.0, out)
                }
            }

            impl FromSql<SqlUuid, Pg> for $name {
                fn from_sql(value: PgValue<'_>) -> diesel::deserialize::Result<Self> {
                    <Uuid as FromSql<SqlUuid, Pg>>::from_sql(value).map(Self)
                }
            }

            // The schema of a UUID. A DTO field of an id type names `value_type = uuid::Uuid`,
            // so the document shows the field as a `format: uuid` string, not a reference.
            impl utoipa::PartialSchema for $name {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Uuid,
                        )))
                        .into()
                }
            }

            impl utoipa::ToSchema for $name {}
        )+
    };
}

typed_id! {
    /// A subject's id.
    SubjectId;
    /// A recipient's id.
    RecipientId;
    /// A disclosure authorization's id.
    AuthorizationId;
    /// A disclosure's id.
    DisclosureId;
    /// A consent event's id.
    EventId;
    /// A rectification's id.
    RectificationId;
    /// A privacy request's id.
    PrivacyRequestId;
    /// A retention rule's id.
    RetentionRuleId;
    /// A retention run's id.
    RetentionRunId;
    /// A notice's id, also its `webhook-id`.
    NoticeId;
    /// A webhook's id.
    WebhookId;
    /// A hold's id.
    HoldId;
    /// A restriction's id.
    RestrictionId;
    /// A processing activity's id.
    ActivityId;
    /// A breach's id.
    BreachId;
    /// An information notice's id (Art. 14).
    InformationNoticeId;
    /// A privacy request's task's id.
    TaskId;
}
