//! The OpenAPI part of the breach register, merged into the service's document.

use super::{api, reads, routes, steps};

/// The operations and schemas of the breach register.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::create_breach,
        reads::list_breaches,
        routes::get_breach,
        steps::change_breach,
        routes::scope_breach,
        reads::list_affected,
        steps::assess_breach,
        steps::notify_authority,
        steps::communicate,
    ),
    components(schemas(
        api::Breach,
        api::NewBreach,
        api::BreachPatch,
        api::Window,
        api::Nature,
        api::Risk,
        api::Source,
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
