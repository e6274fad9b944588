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

/// The whole document: the operational paths and every resource's own.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::subjects::Api::openapi());
    doc.merge(crate::consents::Api::openapi());
    doc.merge(crate::recipients::Api::openapi());
    doc.merge(crate::disclosures::Api::openapi());
    doc.merge(crate::access_log::routes::Api::openapi());
    doc.merge(crate::access_log::proofs::Api::openapi());
    doc.merge(crate::receipts::routes::Api::openapi());
    doc.merge(crate::requests::Api::openapi());
    describe_every_operation(&mut doc);
    doc
}

/// utoipa turns a one-line doc comment into a summary only; the handler's doc comment is meant
/// to be the operation's description too.
fn describe_every_operation(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.description.as_deref().is_none_or(str::is_empty) {
                operation.description = operation.summary.clone();
            }
        }
    }
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut text = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
