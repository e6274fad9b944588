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
    doc.merge(crate::requests::Api::openapi());
    describe_every_operation(&mut doc);
    document_idempotency_keys(&mut doc);
    doc
}

/// Every change (`POST`, `PUT`, `PATCH`) accepts an `Idempotency-Key`; said once here rather
/// than on every handler. The bulk eligibility check is a read, safe to retry as it is.
fn document_idempotency_keys(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, Required, ResponseBuilder, Type};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/v1/consents/eligibility" {
            continue;
        }
        for operation in [&mut item.put, &mut item.post, &mut item.patch]
            .into_iter()
            .flatten()
        {
            let key = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: a request with a key used by the same caller on the same \
                     method and path within 24 hours and the same body gets the first answer \
                     again and changes nothing (1-128 visible ASCII characters, bare or quoted)",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(130)),
                ))
                .build();
            operation.parameters.get_or_insert_with(Vec::new).push(key);
            let responses = &mut operation.responses.responses;
            let in_use = "a request with this Idempotency-Key is still in progress (`idempotency-key-in-use`)";
            match responses.get_mut("409") {
                Some(utoipa::openapi::RefOr::T(conflict)) => {
                    conflict.description = format!("{}; or {in_use}", conflict.description);
                }
                Some(_) => {}
                None => {
                    let description = format!("A{}", &in_use[1..]);
                    responses.insert("409".to_owned(), problem(&description).into());
                }
            }
            responses.entry("422".to_owned()).or_insert_with(|| {
                problem("The Idempotency-Key was used with another body (`idempotency-key-reused`)")
                    .into()
            });
        }
    }
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
