//! The OpenAPI part of the breach register, merged into the service's document.

use super::{api, routes};

/// The operations and schemas of the breach register.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::create_breach,
        routes::list_breaches,
        routes::get_breach,
        routes::change_breach,
        routes::scope_breach,
        routes::list_affected,
        routes::assess_breach,
        routes::notify_authority,
        routes::communicate,
    ),
    components(schemas(
        api::Breach,
        api::NewBreach,
        api::BreachPatch,
        api::Window,
        api::Nature,
        api::Risk,
        api::ScopeSource,
        api::Exemption,
        api::Assessment,
        api::AuthorityNotification,
        api::SubjectCommunication,
        api::ScopeRequest,
        api::Scoped,
        api::Affected,
        crate::pagination::Page<api::Breach>,
        crate::pagination::Page<api::Affected>,
    )),
    tags(
        (name = "breaches", description = "The breach register (GDPR Art. 33-34): the 72-hour deadline, the persons affected computed from the disclosure ledger and the access log, assessment, notification of the authority and communication to persons"),
    )
)]
pub struct Doc;
