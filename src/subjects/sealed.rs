//! A subject's fields as stored: every personal value sealed under the subject's data key and
//! bound to its column and row, the exact-lookup fields also as blind indexes. The rest of the
//! service sees only [`SubjectData`], opened.

use super::record::{NewRectification, RectificationRow, SubjectData, SubjectRow};
use crate::at_rest::{self, Cipher, Indexed, Place};
use crate::db::schema::{rectifications, subjects};
use crate::domain::ids::{RectificationId, SubjectId};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;

/// The subject's stored fields.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct SealedData {
    pub kind: String,
    pub preferred_language: Option<String>,
    pub source_type: String,
    pub given_name_enc: Option<Vec<u8>>,
    pub family_name_enc: Option<Vec<u8>>,
    pub personal_code_enc: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub address_street_enc: Option<Vec<u8>>,
    pub address_city_enc: Option<Vec<u8>>,
    pub address_postal_code_enc: Option<Vec<u8>>,
    pub address_country_enc: Option<Vec<u8>>,
    pub source_name_enc: Option<Vec<u8>>,
    pub source_reference_enc: Option<Vec<u8>>,
    pub source_collected_at_enc: Option<Vec<u8>>,
    pub source_attestation_enc: Option<Vec<u8>>,
    pub personal_code_bidx: Option<Vec<u8>>,
    pub email_bidx: Option<Vec<u8>>,
}

/// The place of one of a subject's columns.
fn at<'a>(row: &'a [u8; 16], column: &'static str) -> Place<'a> {
    Place {
        table: "subjects",
        column,
        row,
    }
}

/// The stored form of a collection time: RFC 3339 with microseconds, as the API writes it.
fn instant(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl SealedData {
    /// Seals `data` for subject `id` under `key`; the blind indexes need the index key.
    pub fn seal(
        conn: &mut PgConnection,
        key: &Cipher,
        id: SubjectId,
        data: &SubjectData,
    ) -> ApiResult<Self> {
        let row = *id.uuid().as_bytes();
        let seal = |column, value: Option<&str>| key.seal_text(at(&row, column), value);
        let personal_code_bidx = match &data.personal_code {
            Some(code) => Some(at_rest::blind_index(conn, Indexed::PersonalCode, code)?),
            None => None,
        };
        let email_bidx = match &data.email {
            Some(email) => Some(at_rest::blind_index(conn, Indexed::Email, email)?),
            None => None,
        };
        Ok(Self {
            kind: data.kind.clone(),
            preferred_language: data.preferred_language.clone(),
            source_type: data.source_type.clone(),
            given_name_enc: seal("given_name_enc", Some(&data.given_name)),
            family_name_enc: seal("family_name_enc", Some(&data.family_name)),
            personal_code_enc: seal("personal_code_enc", data.personal_code.as_deref()),
            email_enc: seal("email_enc", data.email.as_deref()),
            phone_enc: seal("phone_enc", data.phone.as_deref()),
            address_street_enc: seal("address_street_enc", data.address_street.as_deref()),
            address_city_enc: seal("address_city_enc", data.address_city.as_deref()),
            address_postal_code_enc: seal(
                "address_postal_code_enc",
                data.address_postal_code.as_deref(),
            ),
            address_country_enc: seal("address_country_enc", data.address_country.as_deref()),
            source_name_enc: seal("source_name_enc", data.source_name.as_deref()),
            source_reference_enc: seal("source_reference_enc", data.source_reference.as_deref()),
            source_collected_at_enc: seal(
                "source_collected_at_enc",
                data.source_collected_at.as_ref().map(instant).as_deref(),
            ),
            source_attestation_enc: seal(
                "source_attestation_enc",
                data.source_attestation.as_deref(),
            ),
            personal_code_bidx,
            email_bidx,
        })
    }

    /// The fields in clear; without a key (an erased subject) every personal value is absent.
    pub fn open(&self, key: Option<&Cipher>, id: SubjectId) -> SubjectData {
        let row = *id.uuid().as_bytes();
        let open = |column, sealed: &Option<Vec<u8>>| {
            key.and_then(|k| k.open_text(at(&row, column), sealed.as_deref()))
        };
        SubjectData {
            kind: self.kind.clone(),
            given_name: open("given_name_enc", &self.given_name_enc).unwrap_or_default(),
            family_name: open("family_name_enc", &self.family_name_enc).unwrap_or_default(),
            personal_code: open("personal_code_enc", &self.personal_code_enc),
            email: open("email_enc", &self.email_enc),
            phone: open("phone_enc", &self.phone_enc),
            address_street: open("address_street_enc", &self.address_street_enc),
            address_city: open("address_city_enc", &self.address_city_enc),
            address_postal_code: open("address_postal_code_enc", &self.address_postal_code_enc),
            address_country: open("address_country_enc", &self.address_country_enc),
            preferred_language: self.preferred_language.clone(),
            source_type: self.source_type.clone(),
            source_name: open("source_name_enc", &self.source_name_enc),
            source_reference: open("source_reference_enc", &self.source_reference_enc),
            source_collected_at: open("source_collected_at_enc", &self.source_collected_at_enc)
                .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
                .map(|t| t.with_timezone(&Utc)),
            source_attestation: open("source_attestation_enc", &self.source_attestation_enc),
        }
    }
}

/// A subject row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg))]
pub struct StoredSubject {
    pub id: SubjectId,
    pub version: i32,
    #[diesel(embed)]
    pub sealed: SealedData,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The stored column, or a withheld disclosure's moment once its date has come (recording
    /// it did not move the column, and no job does on the date): read as retention reads it.
    #[diesel(
        select_expression = diesel::dsl::sql(&crate::disclosures::withheld::last_activity("subjects")),
        select_expression_type = diesel::expression::SqlLiteral<diesel::sql_types::Timestamptz>,
    )]
    pub last_activity_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
    pub restriction_ground: Option<String>,
    pub restricted_since: Option<DateTime<Utc>>,
}

impl StoredSubject {
    /// The row in clear under its data key (none: the subject was erased).
    pub fn open(&self, key: Option<&Cipher>) -> SubjectRow {
        SubjectRow {
            id: self.id,
            version: self.version,
            data: self.sealed.open(key, self.id),
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_activity_at: self.last_activity_at,
            erased_at: self.erased_at,
            restriction_ground: self.restriction_ground.clone(),
            restricted_since: self.restricted_since,
        }
    }
}

/// A rectification as stored: the old and new values and the reason sealed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rectifications, check_for_backend(diesel::pg::Pg))]
pub struct StoredRectification {
    pub id: RectificationId,
    pub subject_id: SubjectId,
    pub field: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub old_value_enc: Option<Vec<u8>>,
    pub new_value_enc: Option<Vec<u8>>,
    pub reason_enc: Option<Vec<u8>>,
}

fn rectification_at<'a>(row: &'a [u8; 16], column: &'static str) -> Place<'a> {
    Place {
        table: "rectifications",
        column,
        row,
    }
}

impl StoredRectification {
    /// Seals a new rectification under the subject's key.
    pub fn seal(key: &Cipher, new: &NewRectification) -> Self {
        let row = *new.id.uuid().as_bytes();
        let json = |column, value: &Option<serde_json::Value>| {
            value
                .as_ref()
                .map(|v| key.seal(rectification_at(&row, column), v.to_string().as_bytes()))
        };
        Self {
            id: new.id,
            subject_id: new.subject_id,
            field: new.field.clone(),
            actor: new.actor.clone(),
            at: new.at,
            request_id: new.request_id.clone(),
            old_value_enc: json("old_value_enc", &new.old_value),
            new_value_enc: json("new_value_enc", &new.new_value),
            reason_enc: key.seal_text(rectification_at(&row, "reason_enc"), Some(&new.reason)),
        }
    }

    /// The rectification in clear; without the key its values and reason are absent.
    pub fn open(self, key: Option<&Cipher>) -> RectificationRow {
        let row = *self.id.uuid().as_bytes();
        let open = |column, sealed: &Option<Vec<u8>>| {
            key.and_then(|k| k.open_text(rectification_at(&row, column), sealed.as_deref()))
        };
        let json =
            |column, sealed| open(column, sealed).and_then(|text| serde_json::from_str(&text).ok());
        RectificationRow {
            id: self.id,
            subject_id: self.subject_id,
            field: self.field.clone(),
            old_value: json("old_value_enc", &self.old_value_enc),
            new_value: json("new_value_enc", &self.new_value_enc),
            reason: open("reason_enc", &self.reason_enc).unwrap_or_default(),
            actor: self.actor,
            at: self.at,
            request_id: self.request_id,
        }
    }
}
