//! The OpenAPI document, generated from the handlers' annotations, and the docs page.

pub mod route_table;

use crate::{
    access_log, consents, disclosures, holds, me, notices, ops, privacy_centre, receipts,
    recipients, requests, retention, rights, subjects,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

mod fixups;
mod operations;
use utoipa::{Modify, OpenApi};

/// The whole API: every operation (served by [`crate::router`]) and every schema.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "planpro-privacy",
        description = "PlanPro OÜ's privacy service: subject records, consent and opt-out flags, third-party disclosure authorizations and a tamper-evident access log.",
        license(name = "Proprietary"),
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::metrics,
        subjects::routes::create_subject,
        subjects::routes::list_subjects,
        subjects::routes::get_subject,
        me::routes::get_me,
        me::consents::list_my_consents,
        me::consents::set_my_consent,
        me::requests::file_my_request,
        me::requests::list_my_requests,
        me::access_log::my_access_log,
        me::access_log::my_usage,
        me::routes::my_access_response,
        privacy_centre::routes::centre_page,
        privacy_centre::routes::confirm_page,
        privacy_centre::routes::asset,
        subjects::routes::rectify_subject,
        subjects::routes::list_rectifications,
        rights::routes::export_subject,
        rights::access_response::routes::access_response,
        rights::access_response::freeze::freeze,
        rights::access_response::relink::new_download_link,
        rights::access_response::downloads::download_page,
        rights::access_response::downloads::download,
        rights::evidence::routes::evidence_bundle,
        rights::routes::erase_subject,
        rights::routes::restrict_subject,
        rights::routes::lift_restriction,
        holds::routes::create_hold,
        holds::routes::list_holds,
        holds::routes::release_hold,
        consents::routes::list_purposes,
        consents::routes::create_purpose,
        consents::routes::get_purpose,
        consents::routes::list_consents,
        consents::routes::set_consent,
        consents::routes::consent_history,
        consents::routes::check_eligibility,
        consents::version_routes::create_purpose_version,
        consents::version_routes::list_purpose_versions,
        consents::version_routes::get_purpose_version,
        consents::export_routes::export_consents,
        consents::export_routes::expiring,
        consents::confirm_routes::confirm_consent,
        consents::confirm_purpose::pending_purpose,
        recipients::routes::create_recipient,
        recipients::routes::list_recipients,
        recipients::routes::get_recipient,
        recipients::routes::patch_recipient,
        disclosures::authorizations::create_authorization,
        disclosures::authorizations::list_authorizations,
        disclosures::authorizations::get_authorization,
        disclosures::authorizations::revoke_authorization,
        disclosures::records::record_disclosure,
        disclosures::withholding::set_withholding,
        disclosures::records::list_disclosures,
        disclosures::partner::read_subject,
        disclosures::partner::list_subjects,
        access_log::routes::search,
        access_log::routes::subject_entries,
        access_log::routes::verify,
        access_log::proofs::checkpoint,
        access_log::proofs::checkpoint_key,
        me::proofs::inclusion_proof,
        access_log::proofs::consistency_proof,
        access_log::rollback::list,
        receipts::routes::receipt,
        receipts::routes::jwks,
        requests::routes::create_request,
        requests::list::list_requests,
        requests::routes::get_request,
        requests::changes::extend_request,
        notices::webhook_routes::create_webhook,
        notices::webhook_routes::list_webhooks,
        notices::webhook_routes::delete_webhook,
        notices::webhook_routes::rotate_secret,
        notices::routes::list_notices,
        notices::routes::get_notice,
        notices::routes::retry_notice,
        notices::routes::acknowledge_notice,
        requests::changes::close_request,
        requests::verification::verify_request,
        requests::tasks::create_task,
        requests::tasks::list_tasks,
        requests::tasks::change_task,
        requests::metrics::request_metrics,
        notices::outcome_routes::report_outcome,
        notices::outcome_routes::list_partner_notices,
        notices::outcome_routes::record_outcome,
        notices::compliance::compliance,
        retention::rules::create_rule,
        retention::rules::list_rules,
        retention::rules::change_rule,
        retention::due::list_due,
        retention::runs::start_run,
        retention::runs::get_run,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        access_log::proving::InclusionProof,
        access_log::proving::ConsistencyProof,
        subjects::api::Address,
        subjects::api::Source,
        subjects::api::SubjectFields,
        subjects::api::Subject,
        subjects::patch::SubjectPatch,
        subjects::api::Rectification,
        subjects::api::SubjectRestriction,
        rights::erasure::Erased,
        rights::api::ErasureRequest,
        rights::api::RestrictionRequest,
        rights::api::RestrictionLift,
        rights::api::Restriction,
        crate::domain::restriction::RestrictionGround,
        crate::domain::hold::HoldGround,
        holds::api::NewHold,
        holds::api::Hold,
        holds::api::HoldList,
        holds::api::HoldRelease,
        rights::export::Localized,
        rights::export::PurposeOfProcessing,
        rights::export::RecipientCategory,
        rights::export::SubjectExport,
        rights::export::FrozenResponse,
        rights::access_response::api::AccessResponse,
        rights::access_response::api::AccessConfirmation,
        rights::access_response::api::AccessController,
        rights::access_response::api::AccessPurpose,
        rights::access_response::api::AccessLegalBasis,
        rights::access_response::api::AccessRecipient,
        rights::access_response::api::AccessNotice,
        rights::access_response::api::AccessRetention,
        rights::access_response::api::AccessRetentionRule,
        rights::access_response::api::AccessHold,
        rights::access_response::api::AccessComplaint,
        rights::access_response::api::AccessRight,
        rights::access_response::api::AccessLogSummaryRow,
        rights::access_response::api::AccessOrganisation,
        rights::access_response::routes::Format,
        rights::access_response::freeze::Freeze,
        rights::evidence::routes::EvidenceZip,
        rights::access_response::freeze::Frozen,
        crate::domain::subject_kind::SubjectKind,
        crate::domain::source_type::SourceType,
        crate::domain::language::Language,
        crate::domain::consent::Basis,
        crate::domain::consent::Decision,
        crate::domain::consent::ConsentStatus,
        crate::domain::consent_state::ConsentState,
        crate::domain::consent_state::Confirmation,
        crate::domain::consent::Method,
        consents::purpose_api::Descriptions,
        consents::purpose_api::Purpose,
        consents::purpose_api::PurposeList,
        consents::purpose_api::NewDescriptions,
        consents::purpose_api::NewPurpose,
        consents::api::Consent,
        me::consents::MyConsent,
        me::consents::MyConsents,
        me::consents::MyConsentChange,
        me::requests::MyNewRequest,
        me::requests::MyRequest,
        crate::pagination::Page<me::requests::MyRequest>,
        me::requests::Remedies,
        me::Trilingual,
        me::entries::MyEntry,
        access_log::actor_kind::ActorKind,
        me::proofs::ShownEntry,
        me::proofs::OwnInclusionProof,
        me::proofs::AnyInclusionProof,
        me::entries::ActivityRef,
        crate::pagination::Page<me::entries::MyEntry>,
        me::access_log::Usage,
        me::access_log::UsageList,
        requests::login::LoginVerification,
        requests::login::LoginMethod,
        consents::api::ConsentChange,
        consents::api::ConsentEvent,
        consents::api::GuardianConsent,
        consents::api::EligibilityRequest,
        consents::versions::VersionText,
        consents::export::ExportedFlag,
        consents::export::Expiring,
        consents::confirm::ConfirmationRequest,
        consents::confirm_routes::ConfirmationAnswer,
        consents::confirm_purpose::PendingPurpose,
        privacy_centre::assets::Asset,
        consents::versions::PurposeVersion,
        consents::versions::VersionList,
        consents::versions::NewVersion,
        consents::api::Eligibility,
        recipients::api::NewRecipient,
        recipients::api::RecipientPatch,
        recipients::api::Recipient,
        crate::domain::recipient::RecipientCategory,
        crate::domain::recipient::RecipientStatus,
        crate::domain::disclosure::DataCategory,
        crate::domain::disclosure::LegalBasis,
        disclosures::api::NewAuthorization,
        disclosures::api::Authorization,
        disclosures::api::AuthorizationList,
        disclosures::api::Revocation,
        disclosures::withholding::Withholding,
        disclosures::api::NewDisclosure,
        disclosures::api::Disclosure,
        disclosures::api::PartnerSubject,
        disclosures::api::PartnerAddress,
        access_log::model::Entry,
        crate::pagination::Page<access_log::model::Entry>,
        access_log::verify::Verification,
        access_log::Action,
        access_log::Outcome,
        crate::pagination::SortOrder,
        requests::api::NewPrivacyRequest,
        requests::api::PrivacyRequest,
        requests::api::Extension,
        requests::api::Closing,
        crate::domain::privacy_request::RequestKind,
        crate::domain::privacy_request::RequestChannel,
        crate::domain::privacy_request::RequestStatus,
        crate::domain::privacy_request::RequestOutcome,
        retention::api::NewRule,
        retention::api::RuleChange,
        retention::api::Rule,
        retention::api::Rules,
        retention::api::DueSubject,
        retention::api::Run,
        retention::api::RunStarted,
        crate::domain::retention::RunStatus,
        notices::api::Notice,
        crate::pagination::Page<notices::api::Notice>,
        notices::api::Acknowledgement,
        notices::api::NewWebhook,
        notices::api::Webhook,
        notices::api::WebhookWithSecret,
        notices::api::WebhookList,
        crate::domain::notice::NoticeType,
        crate::domain::notice::NoticeStatus,
        crate::domain::notice::WebhookStatus,
        crate::domain::outcome::NoticeOutcome,
        crate::domain::outcome::TaskStatus,
        crate::domain::outcome::VerificationMethod,
        notices::outcome_api::OutcomeReport,
        notices::outcome_api::StaffOutcome,
        notices::compliance::Compliance,
        requests::verification::RequestVerification,
        requests::task_api::NewTask,
        requests::task_api::TaskChange,
        requests::task_api::Task,
        crate::pagination::Page<requests::task_api::Task>,
        requests::metrics::RequestMetrics,
        requests::metrics::KindFigures,
        requests::metrics::DaysToClose,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "subjects", description = "The persons whose data PlanPro keeps: records, rectification and the right of access"),
        (name = "me", description = "The person's own view, with their own token (a subject token): their record, consents, privacy requests and who used their data"),
        (name = "consents", description = "Purposes of processing, consent and opt-out flags, eligibility checks"),
        (name = "recipients", description = "The organisations that may receive personal data"),
        (name = "disclosures", description = "Disclosure authorizations and the record of disclosures"),
        (name = "partner", description = "What recipients' own integrations may read"),
        (name = "access-log", description = "Who read or changed personal data, when and why; tamper-evident"),
        (name = "notifications", description = "Notices to recipients of a person's data about its correction, erasure or restriction and about withdrawn consent (GDPR Art. 19), delivered to their webhooks or by staff"),
        (name = "privacy-requests", description = "What people ask of PlanPro under the GDPR, with the deadline of each answer: one calendar month from receipt (Regulation 1182/71, moved past weekends and Estonian public holidays), extendable once to three months"),
        (name = "privacy-centre", description = "The pages a person opens in a browser: the privacy centre (their data, consents, access log and requests, with their own token in the URL fragment) and the double opt-in confirmation page"),
        (name = "retention", description = "How long each kind of subject is kept after its last activity, who is due for erasure, the runs that erase them (storage limitation, GDPR Art. 5(1)(e)), and the holds that keep a subject's data for a legal reason (Art. 17(3)), blocking its erasure"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT from PlanPro's identity provider (staff and partners) or one \
                         minted with the service's own key (embedded mode or `JWT_SECRET`): \
                         `planpro-privacy token --sub you@planpro.ee --scope \"subjects:read \
                         subjects:write\" --ttl 1h`. Paste the token alone, without `Bearer`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI documents of the resources that describe their own operations, merged into the
/// one document.
fn documented_parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        crate::activities::doc::Doc::openapi(),
        crate::art14::doc::Doc::openapi(),
        crate::breaches::doc::Doc::openapi(),
    ]
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in documented_parts() {
        doc.merge(part);
    }
    operations::describe_every_operation(&mut doc);
    operations::document_idempotency_keys(&mut doc);
    doc
}

/// The document as committed, which a test keeps equal to [`to_json`]. The service serves this
/// text and reads its route table from it: building the document at run time cost each worker
/// about 12 MiB of heap that stayed (issue 28's footprint).
pub const COMMITTED: &str = include_str!("../openapi/openapi.json");

/// `GET /openapi.json`: the committed document, as it is.
pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(COMMITTED)
}

/// The document as committed: [`document`] with what holds for every operation (see
/// `fixups.rs`).
pub fn document_json() -> serde_json::Value {
    fixups::apply(&document())
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut text = serde_json::to_string_pretty(&document_json())
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merging keeps the first schema of a name: a resource's schema named like another one
    /// would silently describe the other's bodies (a breach's `Source` once became the subject's
    /// provenance object). Every name must therefore mean one schema.
    #[test]
    fn no_two_parts_define_a_schema_under_one_name() {
        let mut seen: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
        let mut clashes = Vec::new();
        for part in std::iter::once(ApiDoc::openapi()).chain(documented_parts()) {
            let schemas = part.components.map(|c| c.schemas).unwrap_or_default();
            for (name, schema) in schemas {
                let schema = serde_json::to_value(schema).unwrap();
                if seen
                    .insert(name.clone(), schema.clone())
                    .is_some_and(|f| f != schema)
                {
                    clashes.push(name);
                }
            }
        }
        assert!(
            clashes.is_empty(),
            "two schemas are named each of {clashes:?}"
        );
    }
}
