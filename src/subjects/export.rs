//! The right of access (privacy policy, principle 7): one document with everything held about a
//! person, why it is processed and to whom it may be disclosed.

use super::api::{
    Localized, PurposeOfProcessing, RecipientCategory, Rectification, Subject, SubjectExport,
};
use super::model;
use crate::error::ApiResult;
use chrono::Utc;
use diesel::PgConnection;
use uuid::Uuid;

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
pub fn gather(conn: &mut PgConnection, subject_id: Uuid) -> ApiResult<SubjectExport> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let subject = model::find(conn, subject_id)?;
            let rectifications = model::rectifications(conn, subject_id, None, None)?;
            let (consents, consent_history) = crate::consents::export_for(conn, subject_id)?;
            let (disclosure_authorizations, disclosures) =
                crate::disclosures::export_for(conn, subject_id)?;
            let access_log = crate::access_log::export_for(conn, subject_id)?;
            let privacy_requests = crate::requests::export_for(conn, subject_id)?;
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
                subject: Subject::from(&subject),
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
                purposes,
                recipient_categories: RECIPIENT_CATEGORIES
                    .iter()
                    .map(|(id, et, en)| RecipientCategory {
                        id: (*id).to_owned(),
                        description: localized(et, en),
                    })
                    .collect(),
                generated_at: Utc::now(),
            })
        })
}
