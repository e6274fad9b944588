//! The OpenAPI document is one that client generators trust: unique operation ids, a named
//! schema for every list item and export array, the request headers declared, the constraints
//! the service enforces declared, and descriptions written for integrators.

use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&planpro_privacy::openapi::to_json()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn operation_ids_are_unique_and_every_v1_operation_with_a_token_declares_the_request_headers() {
    let doc = document();
    let mut seen = std::collections::BTreeMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
            panic!("operationId {id} is used by {other} and {method} {path}");
        }
        // Operations without a token (the checkpoint's verifier key) read no X-Access-Purpose.
        let needs_token = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if path.starts_with("/v1/") && needs_token {
            for header in ["X-Request-Id", "X-Access-Purpose"] {
                let declared = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == header && p["in"] == "header")
                });
                assert!(declared, "{method} {path} does not declare {header}");
            }
        }
        for parameter in op["parameters"].as_array().into_iter().flatten() {
            if parameter["name"] == "limit" {
                assert_eq!(parameter["schema"]["minimum"], 1, "{method} {path}");
                assert_eq!(parameter["schema"]["maximum"], 1000, "{method} {path}");
            }
        }
        if let Some(body) = op["requestBody"]["content"].as_object() {
            assert_eq!(body.len(), 1, "{method} {path}: one media type per body");
        }
    }
}

/// Every object schema with properties below a component's root, or in an operation.
fn inline_objects(value: &Value, at: &str, depth: usize, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if depth > 0 && map.contains_key("properties") {
                found.push(at.to_owned());
            }
            for (key, child) in map {
                if key != "example" && key != "examples" {
                    inline_objects(child, &format!("{at}/{key}"), depth + 1, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                inline_objects(child, &format!("{at}/{i}"), depth + 1, found);
            }
        }
        _ => {}
    }
}

#[test]
fn list_items_and_export_arrays_are_named_schemas() {
    let doc = document();
    let mut found = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        inline_objects(schema, name, 0, &mut found);
        if let Some(items) = schema.pointer("/properties/items/items") {
            let primitive = items["type"].is_string() && items["type"] != "object";
            assert!(
                primitive || items.get("$ref").is_some(),
                "{name}: items are not a named schema"
            );
        }
    }
    inline_objects(&doc["paths"], "paths", 1, &mut found);
    assert!(found.is_empty(), "inline object schemas: {found:#?}");
    let export = &doc["components"]["schemas"]["SubjectExport"]["properties"];
    for (field, schema) in export.as_object().unwrap() {
        if schema["type"] == "array" {
            assert!(schema["items"].get("$ref").is_some(), "export {field}");
        }
    }
}

#[test]
fn descriptions_speak_to_integrators_and_examples_are_real() {
    let text = planpro_privacy::openapi::to_json();
    for word in ["Serde", "serde", "Rust", "[`", "Option<", "Vec<", "::"] {
        assert!(!text.contains(word), "the document says `{word}`");
    }
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let mut placeholders = Vec::new();
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("example") == Some(&Value::String("string".into())) {
                    out.push(at.to_owned());
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, at, out)),
            _ => {}
        }
    }
    walk(&doc, "", &mut placeholders);
    assert!(
        placeholders.is_empty(),
        "placeholder examples: {placeholders:?}"
    );
    let fields = &schemas["SubjectFields"]["properties"];
    assert!(fields["personal_code"]["pattern"].is_string(), "{fields}");
    assert_eq!(fields["email"]["format"], "email");
    assert!(fields["phone"]["pattern"].is_string());
    assert_eq!(fields["given_name"]["maxLength"], 200);
    let example = &schemas["SubjectFields"]["example"];
    assert_eq!(example["source"]["type"], "data_subject", "{example}");
    assert!(example["source"]
        .get("lawful_collection_attestation")
        .is_none());
    assert_eq!(
        schemas["EligibilityRequest"]["properties"]["subject_ids"]["maxItems"],
        100_000
    );
    assert!(schemas["NewRecipient"]["properties"]["registry_code"]["pattern"].is_string());
}

/// "Try it out" on the docs page sends the document's examples: they must work more than once,
/// and the Authorize box must say where a token comes from.
#[actix_web::test]
async fn the_docs_page_examples_can_be_tried_again_and_the_authorize_box_names_the_token_command() {
    use crate::harness::TestApp;
    let doc = document();
    let scheme = doc["components"]["securitySchemes"]["bearer"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(scheme.contains("planpro-privacy token"), "{scheme}");
    for (method, path, op) in operations(&doc) {
        for parameter in op["parameters"].as_array().into_iter().flatten() {
            if parameter["name"] == "X-Request-Id" {
                assert!(
                    parameter.get("example").is_none(),
                    "{method} {path}: one fixed request id for every try"
                );
            }
        }
    }
    let schema = &doc["components"]["schemas"]["SubjectFields"];
    let example = schema["example"].clone();
    assert!(example.is_object(), "{schema}");
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        app.post("/v1/subjects", example.clone())
            .await
            .assert_status(201);
    }
}
