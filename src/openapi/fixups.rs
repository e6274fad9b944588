//! What the annotations cannot say once for all operations, applied to the finished document:
//! the request headers every `/v1` operation reads, the bounds of every `limit`, and a named
//! schema (a `$ref`) wherever a component's schema was inlined (utoipa inlines a generic's
//! argument, such as the items of `Page<Subject>`), so that generated clients get one model per
//! component instead of anonymous copies.

use serde_json::{json, Map, Value};

/// The document as JSON, with the fixes applied. (JSON, since utoipa cannot read back every
/// schema it writes.)
pub fn apply(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(doc).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    declare_parameters(&mut value);
    declare_open_operations(&mut value);
    // Before the examples are added: an inlined copy must still equal its component.
    name_inline_schemas(&mut value);
    add_examples(&mut value);
    value
}

/// Says outright that the operations without a token requirement need none (`security: []`,
/// which generators and linters read as "open"), and where the service runs by default.
fn declare_open_operations(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, operation) in item.iter_mut() {
                let is_operation =
                    ["get", "put", "post", "patch", "delete"].contains(&method.as_str());
                if let (true, Some(operation)) = (is_operation, operation.as_object_mut()) {
                    operation.entry("security").or_insert_with(|| json!([]));
                }
            }
        }
    }
    if let Some(root) = doc.as_object_mut() {
        root.insert(
            "servers".to_owned(),
            json!([{"url": "http://127.0.0.1:8080", "description": "The service as `cargo run` starts it (BIND_ADDR's default)"}]),
        );
    }
}

/// Realistic examples for the properties no annotation gave one, by field name, so that the
/// docs page and generated clients show PlanPro's data rather than `"string"`.
const EXAMPLES: [(&str, &str); 30] = [
    ("given_name", "Mari"),
    ("family_name", "Maasikas"),
    ("personal_code", "49403136526"),
    ("email", "mari@example.ee"),
    ("contact_email", "privacy@partner.ee"),
    ("phone", "+3725551234"),
    ("street", "Pikk 1-2"),
    ("city", "Tallinn"),
    ("postal_code", "10123"),
    ("country", "EE"),
    ("name", "Partner OÜ"),
    ("registry_code", "12345678"),
    ("purpose", "marketing_planpro"),
    ("actor", "mari.tamm@planpro.ee"),
    ("created_by", "mari.tamm@planpro.ee"),
    ("revoked_by", "mari.tamm@planpro.ee"),
    ("request_id", "portal-2026-11-30-0001"),
    (
        "evidence",
        "web form 2026-11-30, box 'offers from PlanPro' ticked",
    ),
    ("consent_evidence", "signed consent form 2026-11-30"),
    ("legal_reference", "Accounting Act § 12"),
    ("reason", "the person asked for it by e-mail on 2026-11-30"),
    ("revoked_reason", "the person withdrew the consent"),
    (
        "extension_reason",
        "the request covers records from several systems",
    ),
    (
        "outcome_reason",
        "the data are needed for a pending legal claim",
    ),
    (
        "note",
        "sent by e-mail to the partner's data protection officer",
    ),
    ("channel", "email"),
    ("reference", "ticket 2026-1130-7"),
    ("next_cursor", "YzE6MDE5MGI2YTItN2MzZS03ZDFh"),
    ("et", "Pakkumised PlanPro OÜ-lt"),
    ("en", "Offers from PlanPro OÜ"),
];

fn add_examples(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in schemas.values_mut() {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (field, property) in properties.iter_mut() {
            let Some(property) = property.as_object_mut() else {
                continue;
            };
            let textual = match property.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            if !textual || property.contains_key("example") || property.contains_key("format") {
                continue;
            }
            if let Some((_, example)) = EXAMPLES.iter().find(|(name, _)| name == field) {
                property.insert("example".into(), json!(example));
            }
        }
    }
}

fn request_headers() -> [Value; 2] {
    [
        json!({
            "name": "X-Request-Id",
            "in": "header",
            "required": false,
            "description": "Your id for this request (such as `portal-2026-11-30-0001`), stored in the access log and returned in the answer's `X-Request-Id`. Up to 128 letters, digits, `-`, `_`, `.` and `:`; any other value is replaced by a generated id, as is a missing one.",
            "schema": {"type": "string"}
        }),
        json!({
            "name": "X-Access-Purpose",
            "in": "header",
            "required": false,
            "description": "Why personal data is accessed, in free text (at most 200 characters, no control or invisible formatting characters); stored in the access log.",
            "schema": {"type": "string", "maxLength": 200},
            "example": "client asked for a copy of their data"
        }),
    ]
}

/// Adds the request headers to every `/v1` operation (and the 400 a bad one gets) and bounds
/// every `limit` to 1..1000.
fn declare_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                for parameter in parameters.iter_mut() {
                    if parameter["name"] == "limit" && parameter["in"] == "query" {
                        parameter["schema"] = json!({
                            "type": "integer", "format": "int64",
                            "minimum": 1, "maximum": 1000, "default": 100
                        });
                    }
                }
            }
            // X-Access-Purpose is read with the caller's token: an operation without one (the
            // checkpoint's verifier key) neither reads nor refuses it.
            if path.starts_with("/v1/") && operation.contains_key("security") {
                declare_request_headers(operation);
            }
        }
    }
}

fn declare_request_headers(operation: &mut Map<String, Value>) {
    // A bad X-Access-Purpose is a 400, even where nothing else can be.
    if let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        responses.entry("400").or_insert_with(|| {
            json!({
                "description": "A bad request header (`X-Access-Purpose`)",
                "content": {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}
                }}
            })
        });
    }
    let parameters = operation
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(parameters) = parameters.as_array_mut() {
        for header in request_headers() {
            let declared = parameters
                .iter()
                .any(|p| p["name"] == header["name"] && p["in"] == "header");
            if !declared {
                parameters.push(header);
            }
        }
    }
}

/// Replaces every inlined copy of a component's schema by a reference to it.
fn name_inline_schemas(doc: &mut Value) {
    let components: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter(|(_, s)| {
                    ["properties", "enum", "allOf"]
                        .iter()
                        .any(|k| s.get(k).is_some())
                })
                .map(|(name, s)| (name.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths") {
        replace(paths, &components);
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        // A component's own root stays; only what is inside it is replaced.
        for (_, schema) in schemas.iter_mut() {
            replace_inside(schema, &components);
        }
    }
}

fn replace(value: &mut Value, components: &[(String, Value)]) {
    if let Some((name, _)) = components.iter().find(|(_, s)| s == value) {
        *value = json!({ "$ref": format!("#/components/schemas/{name}") });
        return;
    }
    replace_inside(value, components);
}

fn replace_inside(value: &mut Value, components: &[(String, Value)]) {
    match value {
        Value::Object(map) => map_children(map, components),
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, components)),
        _ => {}
    }
}

fn map_children(map: &mut Map<String, Value>, components: &[(String, Value)]) {
    for (key, child) in map.iter_mut() {
        // Examples are data, not schemas: a data value may look like anything.
        if key != "example" && key != "examples" {
            replace(child, components);
        }
    }
}
