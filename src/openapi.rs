//! The OpenAPI document, generated from the handlers' annotations, and the docs page.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "planpro-privacy",
        description = "PlanPro OÜ's privacy service: subject records, consent and opt-out flags, third-party disclosure authorizations and a tamper-evident access log.",
        license(name = "Proprietary"),
    ),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
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
                    .build(),
            ),
        );
    }
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
