//! Passes over the merged document that say once what holds for many operations: every change
//! takes an `Idempotency-Key`, and every operation has a description.

/// Every change (`POST`, `PUT`, `PATCH`) accepts an `Idempotency-Key`; said once here rather
/// than on every handler. The bulk eligibility check is a read, safe to retry as it is.
pub fn document_idempotency_keys(doc: &mut utoipa::openapi::OpenApi) {
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
        // The eligibility check is a read; a webhook's answer holds its secret, which is never
        // stored where idempotency keys keep answers.
        if path == "/v1/consents/eligibility" || path.starts_with("/v1/recipients/{id}/webhooks") {
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
pub fn describe_every_operation(doc: &mut utoipa::openapi::OpenApi) {
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
