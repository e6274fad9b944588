//! The OpenAPI part of the records of processing, merged into the service's document.

use super::{api, conformance, register, routes};

/// The operations and schemas of processing activities, the register and its conformance report.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::create_activity,
        routes::list_activities,
        routes::get_activity,
        routes::change_activity,
        routes::list_activity_versions,
        register::register,
        conformance::conformance,
    ),
    components(schemas(
        api::ActivityBody,
        api::Activity,
        api::ActivityMeta,
        api::ActivityVersion,
        api::Bilingual,
        api::Controller,
        api::ActivityLegalBasis,
        api::Transfer,
        api::Retention,
        api::RecordCategory,
        api::Article,
        api::Safeguard,
        api::ActivityStatus,
        crate::pagination::Page<api::Activity>,
        crate::pagination::Page<api::ActivityVersion>,
        register::Register,
        register::RegisterController,
        conformance::Conformance,
        conformance::UndeclaredDisclosure,
        conformance::UndeclaredRecipient,
        conformance::UnboundReads,
        conformance::IncompleteActivity,
    )),
    tags(
        (name = "records-of-processing", description = "The records of processing activities (GDPR Art. 30): activities with their versions, the signed register as of any date, and its conformance with what the disclosure ledger and the access log show"),
    )
)]
pub struct Doc;
