//! The right of access (privacy policy, principle 7): one document with everything held about a
//! person, why it is processed and to whom it may be disclosed.

use super::api::Restriction;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use crate::holds::api::Hold;
use crate::subjects::api::{Rectification, Subject};
use crate::subjects::model;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Why PlanPro processes personal data apart from the consent purposes: serving clients
/// (the policy's preamble) and obligations under law (principle 5). `(id, et, en)`.
const SERVICE_PURPOSES: [(&str, &str, &str); 2] = [
    (
        "platform_services",
        "Klientide parimaks teenindamiseks PlanPro OÜ keskkonna teenuste osutamine klientidele ja \
         teistele isikutele, kes PlanPro OÜ-ga suhtlevad.",
        "Providing the services of the PlanPro OÜ platform, to serve its clients and the other \
         persons who communicate with PlanPro OÜ as well as possible.",
    ),
    (
        "legal_obligations",
        "Seadusest tulenevate kohustuste täitmine, sealhulgas isikuandmete väljastamine, kui \
         väljastamise kohustus tuleneb seadusest.",
        "Fulfilling obligations under law, including disclosing personal data where a law \
         obliges PlanPro OÜ to do so.",
    ),
];

/// The recipient categories of the policy (principle 10), and public authorities for
/// disclosures a law requires (principle 5). `(id, et, en)`.
const RECIPIENT_CATEGORIES: [(&str, &str, &str); 4] = [
    (
        "platform_service_provider",
        "Keskkonnaga liitunud teenusepakkujad.",
        "Service providers that have joined the platform.",
    ),
    (
        "local_government",
        "Kohalike omavalitsuste esindajad.",
        "Representatives of local governments.",
    ),
    (
        "software_development_provider",
        "Tarkvaraarendusteenuse pakkujad.",
        "Software development service providers.",
    ),
    (
        "public_authority",
        "Avaliku võimu asutused, kellele andmete väljastamise kohustus tuleneb seadusest.",
        "Public authorities to which a law obliges PlanPro OÜ to disclose data.",
    ),
];

fn localized(et: &str, en: &str) -> Localized {
    Localized {
        et: et.to_owned(),
        en: en.to_owned(),
    }
}

/// Gathers the document in one read-only snapshot, so that its parts agree with each other;
/// 404 for an unknown subject.
pub fn gather(conn: &mut PgConnection, subject_id: SubjectId) -> ApiResult<SubjectExport> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| gather_in(conn, subject_id))
}

/// [`gather`] inside the caller's transaction: the access response reads more in the same
/// snapshot.
pub fn gather_in(conn: &mut PgConnection, subject_id: SubjectId) -> ApiResult<SubjectExport> {
    let subject = model::find(conn, subject_id)?;
    let rectifications = model::rectifications(conn, subject_id, None, None)?;
    let (consents, consent_history) = crate::consents::export_for(conn, subject_id)?;
    let (disclosure_authorizations, disclosures) =
        crate::disclosures::export_for(conn, subject_id)?;
    let access_log = crate::access_log::export_for(conn, subject_id)?;
    let privacy_requests = crate::requests::export_for(conn, subject_id)?;
    let notifications = crate::notices::export_for(conn, subject_id)?;
    let restriction = super::restriction::in_force(conn, subject_id)?
        .map(Restriction::try_from)
        .transpose()?;
    let holds = crate::holds::api::holds_of(conn, subject_id)?;
    let (art14, information_notices) = crate::art14::model::export_for(conn, subject_id)?;
    let access_responses = super::access_response::frozen::of_subject(conn, subject_id)?
        .into_iter()
        .map(|row| FrozenResponse {
            id: row.id,
            request_id: row.request_id.uuid(),
            sha256: row.sha256,
            created_at: row.created_at,
        })
        .collect();
    let consent_purposes = model::purposes(conn)?;
    let purposes = SERVICE_PURPOSES
        .iter()
        .map(|(id, et, en)| PurposeOfProcessing {
            id: (*id).to_owned(),
            description: localized(et, en),
        })
        .chain(consent_purposes.into_iter().map(|row| PurposeOfProcessing {
            id: row.id,
            description: Localized {
                et: row.description_et,
                en: row.description_en,
            },
        }))
        .collect();
    Ok(SubjectExport {
        subject: Subject {
            art14: art14.clone(),
            ..Subject::from(&subject)
        },
        art14,
        information_notices,
        consents,
        consent_history,
        disclosure_authorizations,
        disclosures,
        rectifications: rectifications
            .into_iter()
            .map(Rectification::from)
            .collect(),
        access_log,
        privacy_requests,
        notifications,
        restriction,
        holds,
        access_responses,
        purposes,
        recipient_categories: RECIPIENT_CATEGORIES
            .iter()
            .map(|(id, et, en)| RecipientCategory {
                id: (*id).to_owned(),
                description: localized(et, en),
            })
            .collect(),
        generated_at: chrono::SubsecRound::trunc_subsecs(Utc::now(), 6),
    })
}

/// A text in Estonian (the original) and English.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Localized {
    /// Estonian.
    pub et: String,
    /// English.
    pub en: String,
}

/// Something PlanPro processes personal data for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeOfProcessing {
    /// The purpose's id; consent purposes are those of `GET /v1/purposes`.
    #[schema(example = "marketing_planpro")]
    pub id: String,
    /// What it means.
    pub description: Localized,
}

/// A category of recipients personal data may be disclosed to.
// Named apart from the recipients' own `RecipientCategory` enum, which would share its schema name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RecipientCategoryInfo)]
pub struct RecipientCategory {
    /// The category as used by the recipient registry.
    #[schema(example = "local_government")]
    pub id: String,
    /// Who they are.
    pub description: Localized,
}

/// Everything held about one person: the right of access.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectExport {
    /// The record, its source included.
    pub subject: Subject,
    /// The person's consent and opt-out flags, one per purpose.
    #[schema(value_type = Vec<crate::consents::api::Consent>)]
    pub consents: Value,
    /// Every consent decision, newest first.
    #[schema(value_type = Vec<crate::consents::api::ConsentEvent>)]
    pub consent_history: Value,
    /// Permissions to disclose the person's data to recipients.
    #[schema(value_type = Vec<crate::disclosures::api::Authorization>)]
    pub disclosure_authorizations: Value,
    /// Every disclosure of the person's data made.
    #[schema(value_type = Vec<crate::disclosures::api::Disclosure>)]
    pub disclosures: Value,
    /// Every correction of the record, oldest first.
    pub rectifications: Vec<Rectification>,
    /// Every access-log entry about the person, oldest first.
    #[schema(value_type = Vec<crate::access_log::model::Entry>)]
    pub access_log: Value,
    /// The person's privacy requests with their deadlines and outcomes, oldest first.
    #[schema(value_type = Vec<crate::requests::api::PrivacyRequest>)]
    pub privacy_requests: Value,
    /// Every notice to a recipient about the person's data (who was told of a correction,
    /// erasure, restriction or withdrawn consent, and whether it arrived), oldest first.
    #[schema(value_type = Vec<crate::notices::api::Notice>)]
    pub notifications: Value,
    /// The restriction of processing in force (Art. 18), with its reason; `null` when none is.
    pub restriction: Option<Restriction>,
    /// Every hold on the person's data (Art. 17(3)), released ones included, oldest first.
    pub holds: Vec<Hold>,
    /// The information owed under Art. 14 (as on the record); `null` when the data came from
    /// the person.
    pub art14: Option<crate::art14::api::Art14>,
    /// Every Art. 14 information notice given to the person, oldest first.
    pub information_notices: Vec<crate::art14::api::InformationNotice>,
    /// The access responses frozen for the person's requests (Art. 15), oldest first.
    pub access_responses: Vec<FrozenResponse>,
    /// Why PlanPro processes the data.
    pub purposes: Vec<PurposeOfProcessing>,
    /// Who the data may be disclosed to.
    pub recipient_categories: Vec<RecipientCategory>,
    /// When this document was made.
    pub generated_at: DateTime<Utc>,
}

/// A frozen access response, as the export lists it (its content is in the download).
#[derive(Debug, Serialize, ToSchema)]
pub struct FrozenResponse {
    pub id: uuid::Uuid,
    pub request_id: uuid::Uuid,
    /// SHA-256 (hex) of its RFC 8785 JSON.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}
