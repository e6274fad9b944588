//! The whole API on one page: every route, with the handler that serves it. The paths are the
//! constants of [`crate::paths`], which the handlers' OpenAPI annotations name too.

use crate::body::{BodyLimit, MAX_BULK_JSON_BYTES};
use crate::paths::*;
use crate::{
    access_log, activities, art14, breaches, consents, disclosures, holds, me, notices, ops,
    privacy_centre, receipts, recipients, requests, retention, rights, subjects,
};
use actix_web::web::{self, delete, get, patch, post, put, resource};
use actix_web::{guard, HttpRequest, HttpResponse};
use utoipa_swagger_ui::SwaggerUi;

/// Registers every route, the documentation and the answer for anything else.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use access_log::proofs as proof;
    use access_log::routes as log;
    use consents::routes as consent;
    use disclosures::{
        authorizations as authorization, partner, records as disclosure, withholding,
    };
    use holds::routes as hold;
    use notices::outcome_routes as outcome;
    use notices::routes as notice;
    use notices::webhook_routes as webhook;
    use recipients::routes as recipient;
    use requests::changes as change;
    use requests::routes as request;
    use requests::tasks as task;
    use rights::routes as right;
    use subjects::routes as subject;
    cfg.route(HEALTHZ, get().to(ops::healthz))
        .route(READYZ, get().to(ops::readyz))
        .route(METRICS, get().to(ops::metrics))
        // subjects
        .service(
            resource(SUBJECTS)
                .route(get().to(subject::list_subjects))
                .route(post().to(subject::create_subject)),
        )
        .service(
            resource(SUBJECT)
                .route(get().to(subject::get_subject))
                .route(patch().to(subject::rectify_subject)),
        )
        .service(resource(SUBJECT_RECTIFICATIONS).route(get().to(subject::list_rectifications)))
        .service(resource(SUBJECT_EXPORT).route(get().to(right::export_subject)))
        .service(
            resource(SUBJECT_ACCESS_RESPONSE)
                .route(get().to(rights::access_response::routes::access_response)),
        )
        .service(
            resource(PRIVACY_REQUEST_ACCESS_RESPONSE)
                .route(post().to(rights::access_response::freeze::freeze)),
        )
        .service(
            resource(PRIVACY_REQUEST_ACCESS_RESPONSE_LINK)
                .route(post().to(rights::access_response::relink::new_download_link)),
        )
        .service(
            resource(DOWNLOAD)
                .route(get().to(rights::access_response::downloads::download_page))
                .route(post().to(rights::access_response::downloads::download)),
        )
        .service(
            resource(EVIDENCE_BUNDLE).route(get().to(rights::evidence::routes::evidence_bundle)),
        )
        .service(resource(SUBJECT_ERASURE).route(post().to(right::erase_subject)))
        .service(resource(SUBJECT_RESTRICTION).route(post().to(right::restrict_subject)))
        .service(resource(SUBJECT_RESTRICTION_LIFT).route(post().to(right::lift_restriction)))
        // holds
        .service(
            resource(SUBJECT_HOLDS)
                .route(post().to(hold::create_hold))
                .route(get().to(hold::list_holds)),
        )
        .service(resource(SUBJECT_HOLD_RELEASE).route(post().to(hold::release_hold)))
        // the person's own view
        .service(resource(ME).route(get().to(me::routes::get_me)))
        .service(resource(ME_CONSENTS).route(get().to(me::consents::list_my_consents)))
        .service(resource(ME_CONSENT).route(put().to(me::consents::set_my_consent)))
        .service(
            resource(ME_PRIVACY_REQUESTS)
                .route(post().to(me::requests::file_my_request))
                .route(get().to(me::requests::list_my_requests)),
        )
        .service(resource(ME_ACCESS_LOG).route(get().to(me::access_log::my_access_log)))
        .service(resource(ME_USAGE).route(get().to(me::access_log::my_usage)))
        .service(resource(ME_ACCESS_RESPONSE).route(get().to(me::routes::my_access_response)))
        // consents
        .service(
            resource(PURPOSES)
                .route(get().to(consent::list_purposes))
                .route(post().to(consent::create_purpose)),
        )
        .service(resource(PURPOSE).route(get().to(consent::get_purpose)))
        .service(
            resource(PURPOSE_VERSIONS)
                .route(post().to(consents::version_routes::create_purpose_version))
                .route(get().to(consents::version_routes::list_purpose_versions)),
        )
        .service(
            resource(PURPOSE_VERSION)
                .route(get().to(consents::version_routes::get_purpose_version)),
        )
        .service(resource(SUBJECT_CONSENTS).route(get().to(consent::list_consents)))
        // Only GET: a PUT to `.../consents/history` sets the flag of a purpose named `history`.
        .service(
            resource(SUBJECT_CONSENT_HISTORY)
                .guard(guard::Get())
                .route(get().to(consent::consent_history)),
        )
        .service(resource(SUBJECT_CONSENT).route(put().to(consent::set_consent)))
        .service(resource(SUBJECT_CONSENT_RECEIPT).route(get().to(receipts::routes::receipt)))
        .service(resource(JWKS).route(get().to(receipts::routes::jwks)))
        .service(resource(CONSENTS).route(get().to(consents::export_routes::export_consents)))
        .service(
            resource(CONSENT_CONFIRMATIONS)
                .route(post().to(consents::confirm_routes::confirm_consent)),
        )
        .service(
            resource(CONSENT_CONFIRMATION_PURPOSE)
                .route(post().to(consents::confirm_purpose::pending_purpose)),
        )
        .service(resource(CONSENTS_EXPIRING).route(get().to(consents::export_routes::expiring)))
        .service(
            resource(ELIGIBILITY)
                .app_data(BodyLimit(MAX_BULK_JSON_BYTES))
                .route(post().to(consent::check_eligibility)),
        )
        // recipients
        .service(
            resource(RECIPIENTS)
                .route(post().to(recipient::create_recipient))
                .route(get().to(recipient::list_recipients)),
        )
        .service(
            resource(RECIPIENT)
                .route(get().to(recipient::get_recipient))
                .route(patch().to(recipient::patch_recipient)),
        )
        .service(
            resource(RECIPIENT_WEBHOOKS)
                .route(post().to(webhook::create_webhook))
                .route(get().to(webhook::list_webhooks)),
        )
        .service(resource(RECIPIENT_WEBHOOK).route(delete().to(webhook::delete_webhook)))
        .service(resource(RECIPIENT_WEBHOOK_ROTATE).route(post().to(webhook::rotate_secret)))
        // disclosures
        .service(
            resource(AUTHORIZATIONS)
                .route(post().to(authorization::create_authorization))
                .route(get().to(authorization::list_authorizations)),
        )
        .service(resource(AUTHORIZATION).route(get().to(authorization::get_authorization)))
        .service(
            resource(AUTHORIZATION_REVOKE).route(post().to(authorization::revoke_authorization)),
        )
        .service(
            resource(DISCLOSURES)
                .route(post().to(disclosure::record_disclosure))
                .route(get().to(disclosure::list_disclosures)),
        )
        .service(resource(DISCLOSURE_WITHHOLDING).route(put().to(withholding::set_withholding)))
        .service(resource(PARTNER_SUBJECTS).route(get().to(partner::list_subjects)))
        .service(resource(PARTNER_SUBJECT).route(get().to(partner::read_subject)))
        .service(resource(PARTNER_NOTIFICATIONS).route(get().to(outcome::list_partner_notices)))
        .service(resource(PARTNER_NOTIFICATION_OUTCOME).route(post().to(outcome::report_outcome)))
        // access log
        .service(resource(ACCESS_LOGS).route(get().to(log::search)))
        .service(resource(ACCESS_LOG_VERIFY).route(get().to(log::verify)))
        .service(resource(ACCESS_LOG_CHECKPOINT).route(get().to(proof::checkpoint)))
        .service(resource(ACCESS_LOG_CHECKPOINT_KEY).route(get().to(proof::checkpoint_key)))
        .service(resource(ACCESS_LOG_INCLUSION_PROOF).route(get().to(me::proofs::inclusion_proof)))
        .service(resource(ACCESS_LOG_CONSISTENCY_PROOF).route(get().to(proof::consistency_proof)))
        .service(resource(ACCESS_LOG_ROLLBACKS).route(get().to(crate::access_log::rollback::list)))
        .service(resource(SUBJECT_ACCESS_LOGS).route(get().to(log::subject_entries)))
        // privacy requests
        .service(
            resource(PRIVACY_REQUESTS)
                .route(get().to(requests::list::list_requests))
                .route(post().to(request::create_request)),
        )
        // Before `{id}`, which would take `metrics` for an id.
        .service(
            resource(PRIVACY_REQUEST_METRICS).route(get().to(requests::metrics::request_metrics)),
        )
        .service(resource(PRIVACY_REQUEST).route(get().to(request::get_request)))
        .service(resource(PRIVACY_REQUEST_EXTEND).route(post().to(change::extend_request)))
        .service(resource(PRIVACY_REQUEST_CLOSE).route(post().to(change::close_request)))
        .service(
            resource(PRIVACY_REQUEST_VERIFICATION)
                .route(post().to(requests::verification::verify_request)),
        )
        .service(
            resource(PRIVACY_REQUEST_TASKS)
                .route(post().to(task::create_task))
                .route(get().to(task::list_tasks)),
        )
        .service(resource(PRIVACY_REQUEST_TASK).route(patch().to(task::change_task)))
        // retention
        .service(
            resource(RETENTION_RULES)
                .route(get().to(retention::rules::list_rules))
                .route(post().to(retention::rules::create_rule)),
        )
        .service(resource(RETENTION_RULE).route(patch().to(retention::rules::change_rule)))
        .service(resource(RETENTION_DUE).route(get().to(retention::due::list_due)))
        .service(resource(RETENTION_RUNS).route(post().to(retention::runs::start_run)))
        .service(resource(RETENTION_RUN).route(get().to(retention::runs::get_run)))
        // notices to recipients
        .service(resource(NOTIFICATIONS).route(get().to(notice::list_notices)))
        .service(resource(NOTIFICATION).route(get().to(notice::get_notice)))
        .service(resource(NOTIFICATION_RETRY).route(post().to(notice::retry_notice)))
        .service(resource(NOTIFICATION_ACKNOWLEDGE).route(post().to(notice::acknowledge_notice)))
        // Art. 14 information
        .service(
            resource(INFORMATION_NOTICES)
                .route(post().to(art14::routes::record_information_notice)),
        )
        .service(resource(ART14_EXEMPTION).route(post().to(art14::routes::record_art14_exemption)))
        .service(
            resource(INFORMATION_NOTICES_DUE)
                .route(get().to(art14::routes::list_information_notices_due)),
        )
        // breaches
        .service(
            resource(BREACHES)
                .route(get().to(breaches::reads::list_breaches))
                .route(post().to(breaches::routes::create_breach)),
        )
        .service(
            resource(BREACH)
                .route(get().to(breaches::routes::get_breach))
                .route(patch().to(breaches::steps::change_breach)),
        )
        .service(resource(BREACH_SCOPE).route(post().to(breaches::routes::scope_breach)))
        .service(resource(BREACH_SUBJECTS).route(get().to(breaches::reads::list_affected)))
        .service(resource(BREACH_ASSESSMENT).route(put().to(breaches::steps::assess_breach)))
        .service(
            resource(BREACH_AUTHORITY_NOTIFICATION)
                .route(post().to(breaches::steps::notify_authority)),
        )
        .service(
            resource(BREACH_SUBJECT_COMMUNICATION).route(post().to(breaches::steps::communicate)),
        )
        // records of processing
        .service(
            resource(PROCESSING_ACTIVITIES)
                .route(get().to(activities::routes::list_activities))
                .route(post().to(activities::routes::create_activity)),
        )
        .service(
            resource(PROCESSING_ACTIVITY)
                .route(get().to(activities::routes::get_activity))
                .route(patch().to(activities::routes::change_activity)),
        )
        .service(
            resource(PROCESSING_ACTIVITY_VERSIONS)
                .route(get().to(activities::routes::list_activity_versions)),
        )
        .service(resource(ROPA).route(get().to(activities::register::register)))
        .service(resource(ROPA_CONFORMANCE).route(get().to(activities::conformance::conformance)))
        .service(resource(NOTIFICATION_OUTCOME).route(post().to(outcome::record_outcome)))
        .service(resource(RECIPIENT_COMPLIANCE).route(get().to(notices::compliance::compliance)))
        // the privacy centre's pages
        .service(web::redirect("/privacy", PRIVACY_CENTRE))
        .service(resource(PRIVACY_CENTRE).route(get().to(privacy_centre::routes::centre_page)))
        .service(resource(PRIVACY_CONFIRM).route(get().to(privacy_centre::routes::confirm_page)))
        .service(resource(PRIVACY_ASSET).route(get().to(privacy_centre::routes::asset)))
        // documentation
        .service(web::redirect(DOCS, "/docs/"))
        .service(resource(OPENAPI_JSON).route(get().to(crate::openapi::serve)))
        .service(
            SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([OPENAPI_JSON])),
        )
        .default_service(web::to(unmatched));
}

/// 405 (with `Allow`) for a documented path with another method, 404 for anything else.
async fn unmatched(req: HttpRequest) -> HttpResponse {
    crate::openapi::route_table::method_not_allowed(&req)
}
