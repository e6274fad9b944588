//! The OpenAPI part of Art. 14 information, merged into the service's document.

use super::{api, routes};

/// The operations and schemas of Art. 14 information.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(routes::record_information_notice, routes::record_art14_exemption, routes::list_information_notices_due),
    components(schemas(
        api::Art14,
        api::Art14State,
        api::Art14Exemption,
        api::ExemptionGround,
        api::NoticeMethod,
        api::NewInformationNotice,
        api::InformationNotice,
        api::NewExemption,
        api::Art14Due,
        crate::pagination::Page<api::Art14Due>,
    ))
)]
pub struct Doc;
