//! Attacks on the API: mass assignment, SQL metacharacters and Unicode edge cases, control
//! characters, oversized, deeply nested, non-UTF-8 and non-JSON bodies, partner tokens on staff
//! endpoints; and the response headers that keep personal data out of caches.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::header::HeaderValue;
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use planpro_privacy::body::{MAX_BULK_JSON_BYTES, MAX_JSON_BYTES};
use serde_json::{json, Value};
use uuid::Uuid;

// ---------------------------------------------------------------- arrangement

/// Records every body endpoint can refer to.
struct Fixture {
    subject: Uuid,
    recipient: Uuid,
    authorization: Uuid,
    /// A consent event of the subject.
    event: Uuid,
    /// An access-log entry in a signed checkpoint, and that checkpoint's size.
    entry: Uuid,
    size: u64,
    /// Open privacy requests about the subject: one to extend, one to close.
    request: Uuid,
    closable: Uuid,
    /// A retention rule (nothing is due under it) and a finished run.
    rule: Uuid,
    run: Uuid,
    /// An active hold on the subject (to release).
    hold: Uuid,
    /// A second subject, to erase.
    erasable: Uuid,
    /// A webhook of the recipient, and a notice (manual: it predates the webhook) to it.
    webhook: Uuid,
    notice: Uuid,
}

fn staff_token() -> String {
    token_for("tester", &staff(), None)
}

fn partner_token(recipient: Uuid) -> String {
    token_for("partner", &[Scope::Partner], Some(recipient))
}

fn id_of(res: &Resp) -> Uuid {
    res.json()["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a UUID")
}

fn subject_body(name: &str) -> Value {
    json!({
        "kind": "client",
        "given_name": name,
        "family_name": "Maasikas",
        "email": "mari@example.ee",
        "address": {"street": "Pikk 1", "city": "Tallinn", "country": "EE"},
        "source": {"type": "data_subject"}
    })
}

fn recipient_body(name: &str) -> Value {
    json!({"name": name, "category": "platform_service_provider", "contact_email": "dpo@partner.ee"})
}

fn authorization_body(recipient: Uuid) -> Value {
    json!({
        "recipient_id": recipient,
        "legal_basis": "consent",
        "consent_evidence": "signed form 2026-11-20",
        "data_categories": ["identity", "contact"],
        "purpose": "offers"
    })
}

async fn created(app: &TestApp, path: &str, body: Value) -> Uuid {
    let res = app.post(path, body).await;
    res.assert_status(201);
    id_of(&res)
}

async fn arrange(app: &TestApp) -> Fixture {
    // From a public register, so that the Art. 14 endpoints apply to it.
    let mut body = subject_body("Mari");
    body["source"] = json!({"type": "public_registry", "name": "Äriregister"});
    let subject = created(app, "/v1/subjects", body).await;
    let recipient = created(app, "/v1/recipients", recipient_body("Partner OÜ")).await;
    let authorization = created(
        app,
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        authorization_body(recipient),
    )
    .await;
    app.call(
        actix_web::http::Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_partners"),
        &staff(),
        Some(serde_json::json!({"status": "granted", "method": "web_form"})),
    )
    .await
    .assert_status(200);
    let event = app
        .db
        .scalar(&format!(
            "SELECT id FROM consent_events WHERE subject_id = '{subject}'"
        ))
        .parse()
        .expect("an event");
    let size = app.wait_for_checkpoint().await;
    let entry = app
        .db
        .scalar("SELECT entry_id FROM access_log_leaf WHERE idx = 0")
        .parse()
        .expect("a leaf");
    let request = created(
        app,
        "/v1/privacy-requests",
        json!({"kind": "access", "subject_id": subject, "channel": "email",
               "received_at": "2026-11-30T10:00:00Z"}),
    )
    .await;
    let closable = created(
        app,
        "/v1/privacy-requests",
        json!({"kind": "objection", "subject_id": subject, "channel": "phone",
               "received_at": "2026-11-30T11:00:00Z"}),
    )
    .await;
    let rule = created(
        app,
        "/v1/retention/rules",
        json!({"subject_kind": "client", "keep_months": 1200, "legal_basis": "by law"}),
    )
    .await;
    let run = app
        .call(
            actix_web::http::Method::POST,
            "/v1/retention/runs",
            &staff(),
            None,
        )
        .await;
    run.assert_status(202);
    let run = id_of(&run);
    let hold = created(
        app,
        &format!("/v1/subjects/{subject}/holds"),
        json!({"ground": "legal_claims", "legal_reference": "case 2-26-17",
               "review_on": "2099-01-01"}),
    )
    .await;
    let erasable = created(app, "/v1/subjects", subject_body("Jaan")).await;
    app.post(
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_status(201);
    app.call(
        actix_web::http::Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_partners"),
        &staff(),
        Some(serde_json::json!({"status": "withdrawn", "method": "web_form"})),
    )
    .await
    .assert_status(200);
    let notice = app
        .db
        .scalar(&format!(
            "SELECT id FROM notices WHERE subject_id = '{subject}'"
        ))
        .parse()
        .expect("a notice");
    let webhook = created(
        app,
        &format!("/v1/recipients/{recipient}/webhooks"),
        json!({"url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    Fixture {
        rule,
        run,
        subject,
        recipient,
        authorization,
        event,
        entry,
        size,
        request,
        closable,
        hold,
        erasable,
        webhook,
        notice,
    }
}

/// Every table a request could change, with the versions and states of what the fixture holds:
/// equal before and after means the request stored nothing.
fn snapshot(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT concat_ws(' | ', \
           (SELECT count(*) || ':' || coalesce(string_agg(version::text, ',' ORDER BY id), '') FROM subjects), \
           (SELECT count(*) FROM rectifications), \
           (SELECT count(*) FROM purposes), \
           (SELECT count(*) FROM consents), \
           (SELECT count(*) FROM consent_events), \
           (SELECT count(*) || ':' || coalesce(string_agg(version || status, ',' ORDER BY id), '') FROM recipients), \
           (SELECT count(*) || ':' || count(revoked_at) FROM disclosure_authorizations), \
           (SELECT count(*) FROM disclosures), \
           (SELECT count(*) || ':' || coalesce(string_agg(version::text, ',' ORDER BY id), '') FROM privacy_requests), \
           (SELECT count(*) || ':' || count(released_at) FROM holds), \
           (SELECT count(*) || ':' || count(lifted_at) FROM restrictions), \
           (SELECT count(*) FROM erasures), \
           (SELECT count(*) || ':' || coalesce(string_agg(status, ',' ORDER BY id), '') FROM notices), \
           (SELECT count(*) || ':' || coalesce(string_agg(md5(secret), ',' ORDER BY id), '') FROM webhooks), \
           (SELECT count(*) FROM access_log WHERE outcome = 'allowed'))",
    )
}

/// Changes that take no body.
const BODYLESS: [&str; 5] = [
    "/v1/privacy-requests/{id}/access-response/{rid}/link",
    "/v1/recipients/{id}/webhooks/{wid}",
    "/v1/recipients/{id}/webhooks/{wid}/rotate-secret",
    "/v1/notifications/{id}/retry",
    "/v1/retention/runs",
];

/// One endpoint that takes a JSON body, with a body it accepts.
struct BodyEndpoint {
    method: Method,
    path: String,
    body: Value,
    if_match: Option<&'static str>,
}

impl BodyEndpoint {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every endpoint that takes a body, each with a valid one.
/// Endpoints whose listed body is for another subject than the fixture's (the erasure): the
/// partner-token check, which sends every template with the fixture's subject, sends them an
/// empty one.
const SCOPE_FIRST_ONLY: [&str; 18] = [
    "/v1/subjects/{id}/disclosures/{did}/withholding",
    "/v1/me/privacy-requests",
    "/v1/subjects/{id}/erasure",
    "/v1/me/consents/{purpose}",
    "/v1/breaches",
    "/v1/breaches/{id}",
    "/v1/breaches/{id}/scope",
    "/v1/breaches/{id}/assessment",
    "/v1/breaches/{id}/authority-notification",
    "/v1/breaches/{id}/subject-communication",
    "/v1/processing-activities",
    "/v1/processing-activities/{id}",
    "/v1/purposes/{purpose}/versions",
    "/v1/notifications/{id}/outcome",
    "/v1/privacy-requests/{id}/tasks",
    "/v1/privacy-requests/{id}/tasks/{tid}",
    "/v1/privacy-requests/{id}/verification",
    "/v1/privacy-requests/{id}/access-response",
];

fn body_endpoints(fx: &Fixture) -> Vec<BodyEndpoint> {
    let s = fx.subject;
    let e = |method: Method, path: String, body: Value, if_match| BodyEndpoint {
        method,
        path,
        body,
        if_match,
    };
    vec![
        e(
            Method::POST,
            "/v1/subjects".into(),
            subject_body("Anu"),
            None,
        ),
        e(
            Method::PATCH,
            format!("/v1/subjects/{s}"),
            json!({"reason": "asked by the person", "email": "anu@example.ee"}),
            Some("\"1\""),
        ),
        e(
            Method::PUT,
            format!("/v1/subjects/{s}/consents/marketing_partners"),
            json!({"status": "granted", "method": "web_form", "evidence": "form 7"}),
            None,
        ),
        e(
            Method::POST,
            "/v1/purposes".into(),
            json!({"id": "newsletter", "basis": "opt_in",
                   "description": {"et": "Uudiskiri", "en": "Newsletter"}}),
            None,
        ),
        e(
            Method::POST,
            "/v1/consents/eligibility".into(),
            json!({"purpose": "marketing_planpro", "subject_ids": [s]}),
            None,
        ),
        e(
            Method::POST,
            "/v1/recipients".into(),
            recipient_body("Teine OÜ"),
            None,
        ),
        e(
            Method::PATCH,
            format!("/v1/recipients/{}", fx.recipient),
            json!({"name": "Partner AS"}),
            Some("\"1\""),
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/disclosure-authorizations"),
            authorization_body(fx.recipient),
            None,
        ),
        e(
            Method::POST,
            format!(
                "/v1/subjects/{s}/disclosure-authorizations/{}/revoke",
                fx.authorization
            ),
            json!({"reason": "consent withdrawn"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/disclosures"),
            json!({"recipient_id": fx.recipient, "data_categories": ["identity"],
                   "channel": "email", "note": "sent on request"}),
            None,
        ),
        e(
            Method::POST,
            "/v1/privacy-requests".into(),
            json!({"kind": "erasure", "subject_id": s, "channel": "letter",
                   "received_at": "2026-11-30T12:00:00Z"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/privacy-requests/{}/extend", fx.request),
            json!({"reason": "three archives to search",
                   "subject_informed_at": "2026-11-30T13:00:00Z"}),
            Some("\"1\""),
        ),
        e(
            Method::POST,
            format!("/v1/privacy-requests/{}/close", fx.closable),
            json!({"outcome": "fulfilled"}),
            Some("\"1\""),
        ),
        e(
            Method::POST,
            "/v1/retention/rules".into(),
            json!({"subject_kind": "contact", "keep_months": 24, "legal_basis": "by law"}),
            None,
        ),
        e(
            Method::PATCH,
            format!("/v1/retention/rules/{}", fx.rule),
            json!({"legal_basis": "Accounting Act § 12"}),
            Some("\"1\""),
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/restriction"),
            json!({"ground": "accuracy_contested", "reason": "the address is contested"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/restriction/lift"),
            json!({"reason": "the address was verified"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/holds"),
            json!({"ground": "legal_obligation", "legal_reference": "Accounting Act § 12",
                   "review_on": "2099-06-30"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/holds/{}/release", fx.hold),
            json!({"reason": "the case ended"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/recipients/{}/webhooks", fx.recipient),
            json!({"url": "http://127.0.0.1:9/other"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/notifications/{}/acknowledge", fx.notice),
            json!({"note": "told by letter"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/information-notices"),
            json!({"informed_at": "2026-12-01T10:00:00Z", "method": "letter",
                   "notice_version": "privacy notice 2026-11"}),
            None,
        ),
        e(
            Method::POST,
            format!("/v1/subjects/{s}/art14-exemption"),
            json!({"ground": "14(5)(b)", "reference": "effort assessment 2026-4"}),
            None,
        ),
        // Last, and of another subject: it erases.
        e(
            Method::POST,
            format!("/v1/subjects/{}/erasure", fx.erasable),
            json!({"reason": "asked for by the person"}),
            None,
        ),
    ]
}

/// Sends raw bytes with a content type (none when `None`) and a token.
async fn send_raw(
    app: &TestApp,
    endpoint: &BodyEndpoint,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut req = TestRequest::default()
        .method(endpoint.method.clone())
        .uri(&endpoint.path)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_payload(body);
    if let Some(content_type) = content_type {
        req = req.insert_header(("Content-Type", content_type));
    }
    if let Some(tag) = endpoint.if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

/// Sends a JSON body as staff.
async fn send_json(app: &TestApp, endpoint: &BodyEndpoint, body: &Value) -> Resp {
    send_raw(
        app,
        endpoint,
        &staff_token(),
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// Sets the value at a dotted path of an object, creating objects on the way.
fn with(mut body: Value, path: &str, value: Value) -> Value {
    let mut target = &mut body;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let object = target.as_object_mut().expect("an object");
        if parts.peek().is_none() {
            object.insert(part.to_owned(), value);
            break;
        }
        target = object.entry(part).or_insert(json!({}));
    }
    body
}

// ---------------------------------------------------------------- mass assignment

#[actix_web::test]
async fn no_body_lets_a_client_set_what_the_service_keeps() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let when = json!("2020-01-01T00:00:00Z");
    let some_id = json!(Uuid::now_v7());
    // Per endpoint (in the order of `body_endpoints`), the fields a client must not set.
    let forbidden: [&[(&str, Value)]; 24] = [
        &[
            ("id", some_id.clone()),
            ("version", json!(7)),
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
            ("actor", json!("root")),
            ("request_id", json!("forged")),
            ("source.id", some_id.clone()),
            ("address.updated_at", when.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("version", json!(7)),
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
            ("actor", json!("root")),
            ("source.id", some_id.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("actor", json!("root")),
            ("at", when.clone()),
            ("updated_at", when.clone()),
            ("request_id", json!("forged")),
            ("eligible", json!(true)),
            ("purpose", json!("marketing_planpro")),
            ("subject_id", some_id.clone()),
        ],
        &[
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
            ("actor", json!("root")),
            ("version", json!(7)),
            ("description.de", json!("Rundbrief")),
        ],
        &[("actor", json!("root")), ("count", json!(1))],
        &[
            ("id", some_id.clone()),
            ("version", json!(7)),
            ("status", json!("suspended")),
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("version", json!(7)),
            ("registry_code", json!("12345678")),
            ("category", json!("public_authority")),
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("subject_id", some_id.clone()),
            ("revoked_at", when.clone()),
            ("revoked_reason", json!("x")),
            ("revoked_by", json!("root")),
            ("active", json!(true)),
            ("created_by", json!("root")),
            ("created_at", when.clone()),
        ],
        &[
            ("revoked_at", when.clone()),
            ("revoked_by", json!("root")),
            ("active", json!(false)),
            ("id", some_id.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("subject_id", some_id.clone()),
            ("actor", json!("root")),
            ("at", when.clone()),
            ("request_id", json!("forged")),
            ("authorization_ids", json!([some_id])),
        ],
        &[
            ("id", some_id.clone()),
            ("status", json!("closed")),
            ("due_on", json!("2030-01-01")),
            ("received_on", json!("2026-11-01")),
            ("extended", json!(true)),
            ("version", json!(7)),
            ("created_by", json!("root")),
        ],
        &[
            ("due_on", json!("2030-01-01")),
            ("extended", json!(false)),
            ("version", json!(7)),
        ],
        &[
            ("status", json!("open")),
            ("closed_at", when.clone()),
            ("outcome_reason", json!("forged")),
        ],
        &[
            ("id", some_id.clone()),
            ("version", json!(7)),
            ("created_at", when.clone()),
            ("updated_at", when.clone()),
        ],
        &[
            ("id", some_id.clone()),
            ("subject_kind", json!("contact")),
            ("version", json!(7)),
            ("created_at", when.clone()),
        ],
        &[
            ("since", when.clone()),
            ("id", some_id.clone()),
            ("lifted_at", when.clone()),
            ("restricted_by", json!("root")),
        ],
        &[("lifted_at", when.clone()), ("lifted_by", json!("root"))],
        &[
            ("id", some_id.clone()),
            ("created_at", when.clone()),
            ("created_by", json!("root")),
            ("released_at", when.clone()),
            ("subject_id", some_id.clone()),
        ],
        &[
            ("released_at", when.clone()),
            ("released_by", json!("root")),
        ],
        &[
            ("id", some_id.clone()),
            ("secret", json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            ("status", json!("disabled")),
        ],
        &[
            ("status", json!("delivered")),
            ("acknowledged_by", json!("root")),
            ("attempts", json!(0)),
        ],
        &[
            ("id", some_id.clone()),
            ("subject_id", some_id.clone()),
            ("actor", json!("root")),
            ("created_at", when.clone()),
        ],
        &[
            ("status", json!("exempt")),
            ("due_on", json!("2099-01-01")),
            ("subject_id", some_id.clone()),
        ],
        &[
            ("erased_at", when.clone()),
            ("subject_id", some_id.clone()),
            ("actor", json!("root")),
        ],
    ];
    let endpoints = body_endpoints(&fx);
    assert_eq!(endpoints.len(), forbidden.len());
    let before = snapshot(&app);
    for (endpoint, fields) in endpoints.iter().zip(forbidden) {
        // One at a time, so that each is named on its own, then all at once.
        for (field, value) in fields {
            let res = send_json(
                &app,
                endpoint,
                &with(endpoint.body.clone(), field, value.clone()),
            )
            .await;
            res.assert_problem(400, "validation-failed");
            assert_eq!(res.bad_fields(), [*field], "{}", endpoint.name());
            assert_eq!(res.json()["errors"][0]["message"], "unknown field");
        }
        let mut body = endpoint.body.clone();
        for (field, value) in fields {
            body = with(body, field, value.clone());
        }
        let res = send_json(&app, endpoint, &body).await;
        res.assert_problem(400, "validation-failed");
        let mut expected: Vec<String> = fields.iter().map(|(f, _)| (*f).to_owned()).collect();
        expected.sort();
        assert_eq!(res.bad_fields(), expected, "{}", endpoint.name());
        assert_eq!(
            snapshot(&app),
            before,
            "{} stored something",
            endpoint.name()
        );
    }
    // Values the service alone sets are refused where the field itself is the client's.
    let consent = &endpoints[2];
    let res = send_json(
        &app,
        consent,
        &with(consent.body.clone(), "status", json!("unset")),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["status"]);
    assert_eq!(snapshot(&app), before);
    // The valid bodies really are accepted: the refusals above were about the extra fields.
    for endpoint in &endpoints {
        let res = send_json(&app, endpoint, &endpoint.body).await;
        assert!(
            res.status.is_success(),
            "{}: {}",
            endpoint.name(),
            res.status
        );
    }
    assert_ne!(snapshot(&app), before);
}

// ---------------------------------------------------------------- metacharacters and Unicode

/// Text that breaks naive SQL, LIKE patterns, escaping, normalisation or rendering.
const NASTY: [&str; 14] = [
    "O'Brien \"the\" \\ back\\slash",
    "'; DROP TABLE subjects; --",
    "Robert'); DELETE FROM access_log;--",
    "100% _under_ %% \\% a,b",
    "$1 $$x$$ ? :name \\x00 \\u0000",
    "👩‍👩‍👧‍👦 😀 family",
    "Mari\u{301} e\u{301}\u{323} n\u{303}",
    // Right-to-left scripts are text; the controls that reorder it are not (see hardening.rs).
    "kood שלום مرحبا",
    "a\u{200D}b\u{00AD}c\u{034F}d",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎 🏳️‍🌈",
    "Õie Äär Öö Üü Šš Žž õäöüšž",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\",\"y\")",
    "%00 %0a %27 %22 %% &amp; \\\\server\\share",
];

/// Reads one text column of one row straight from the database.
fn stored(app: &TestApp, sql: &str) -> String {
    app.db.scalar(sql)
}

#[actix_web::test]
async fn metacharacters_and_unicode_are_stored_and_returned_verbatim_in_every_text_field() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    for (i, text) in NASTY.iter().enumerate() {
        let text = *text;
        // Fields the API trims get surrounding whitespace, which must be all that is removed.
        let padded = format!(" \t{text}  ");

        // Subjects: names, address lines, source fields; the reason of a rectification.
        let body = json!({
            "kind": "client",
            "given_name": padded,
            "family_name": text,
            "address": {"street": padded, "city": text, "postal_code": text},
            "source": {"type": "third_party", "name": padded, "reference": text,
                       "lawful_collection_attestation": text}
        });
        let res = app.post("/v1/subjects", body).await;
        res.assert_status(201);
        let subject = id_of(&res);
        let read = app.get(&format!("/v1/subjects/{subject}")).await;
        read.assert_status(200);
        for doc in [res.json(), read.json()] {
            for pointer in [
                "/given_name",
                "/family_name",
                "/address/street",
                "/address/city",
                "/address/postal_code",
                "/source/name",
                "/source/reference",
                "/source/lawful_collection_attestation",
            ] {
                assert_eq!(doc.pointer(pointer).unwrap(), text, "{pointer} of {text:?}");
            }
        }
        let d = app.db.subject(subject).data;
        assert_eq!(
            [
                Some(d.given_name),
                Some(d.family_name),
                d.address_street,
                d.address_city,
                d.address_postal_code,
                d.source_name,
                d.source_reference,
                d.source_attestation,
            ]
            .map(Option::unwrap_or_default)
            .join("|"),
            [text; 8].join("|")
        );
        let res = app
            .send(
                TestRequest::patch()
                    .uri(&format!("/v1/subjects/{subject}"))
                    .insert_header(("Authorization", format!("Bearer {}", staff_token())))
                    .insert_header(("If-Match", "\"1\""))
                    .set_json(json!({"reason": padded, "family_name": format!("{text} Tamm")})),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["family_name"], format!("{text} Tamm"));
        let history = app
            .get(&format!("/v1/subjects/{subject}/rectifications"))
            .await
            .json();
        assert_eq!(history["items"][0]["reason"], text);
        assert_eq!(history["items"][0]["old_value"], text);

        // Consents: the evidence (trimmed).
        let res = app
            .call(
                Method::PUT,
                &format!("/v1/subjects/{subject}/consents/marketing_partners"),
                &staff(),
                Some(json!({"status": "granted", "method": "letter", "evidence": padded})),
            )
            .await;
        res.assert_status(200);
        let history = app
            .get(&format!("/v1/subjects/{subject}/consents/history"))
            .await
            .json();
        assert_eq!(history["items"][0]["evidence"], text);

        // Purposes: both descriptions (trimmed).
        let purpose = format!("nasty_{i}");
        let res = app
            .post(
                "/v1/purposes",
                json!({"id": purpose, "basis": "opt_in", "description": {"et": padded, "en": text}}),
            )
            .await;
        res.assert_status(201);
        let read = app.get(&format!("/v1/purposes/{purpose}")).await.json();
        assert_eq!(read["description"], json!({"et": text, "en": text}));

        // Recipients: the name (trimmed), created and patched.
        let res = app.post("/v1/recipients", recipient_body(&padded)).await;
        res.assert_status(201);
        assert_eq!(res.json()["name"], text);
        let recipient = id_of(&res);
        let res = app
            .send(
                TestRequest::patch()
                    .uri(&format!("/v1/recipients/{recipient}"))
                    .insert_header(("Authorization", format!("Bearer {}", staff_token())))
                    .insert_header(("If-Match", "\"1\""))
                    .set_json(json!({"name": format!("{text} AS")})),
            )
            .await;
        res.assert_status(200);
        let read = app.get(&format!("/v1/recipients/{recipient}")).await.json();
        assert_eq!(read["name"], format!("{text} AS"));

        // Authorizations: evidence, legal reference, purpose, revocation reason.
        let base = format!("/v1/subjects/{subject}/disclosure-authorizations");
        let by_consent = created(
            &app,
            &base,
            json!({"recipient_id": fx.recipient, "legal_basis": "consent",
                   "consent_evidence": text, "data_categories": ["identity"], "purpose": text}),
        )
        .await;
        let by_law = created(
            &app,
            &base,
            json!({"recipient_id": fx.recipient, "legal_basis": "legal_obligation",
                   "legal_reference": text, "data_categories": ["contact"], "purpose": text}),
        )
        .await;
        // Disclosures: channel (trimmed) and note.
        let res = app
            .post(
                &format!("/v1/subjects/{subject}/disclosures"),
                json!({"recipient_id": fx.recipient, "data_categories": ["identity", "contact"],
                       "channel": padded, "note": text}),
            )
            .await;
        res.assert_status(201);
        let disclosures = app
            .get(&format!("/v1/subjects/{subject}/disclosures"))
            .await
            .json();
        assert_eq!(disclosures["items"][0]["channel"], text);
        assert_eq!(disclosures["items"][0]["note"], text);
        app.post(&format!("{base}/{by_law}/revoke"), json!({"reason": text}))
            .await
            .assert_status(200);
        let list = app.get(&base).await.json();
        let items = list["items"].as_array().unwrap();
        let find = |id: Uuid| items.iter().find(|a| a["id"] == json!(id)).unwrap().clone();
        assert_eq!(find(by_consent)["consent_evidence"], text);
        assert_eq!(find(by_consent)["purpose"], text);
        assert_eq!(find(by_law)["legal_reference"], text);
        assert_eq!(find(by_law)["revoked_reason"], text);

        // X-Access-Purpose (trimmed), as stored and as every form of the log gives it back.
        let request_id = format!("purpose-{i}");
        let res = app
            .send(
                TestRequest::get()
                    .uri(&format!("/v1/subjects/{subject}"))
                    .insert_header(("Authorization", format!("Bearer {}", staff_token())))
                    .insert_header(("X-Request-Id", request_id.clone()))
                    .insert_header((
                        "X-Access-Purpose",
                        HeaderValue::from_bytes(padded.as_bytes()).unwrap(),
                    )),
            )
            .await;
        res.assert_status(200);
        assert_eq!(
            stored(
                &app,
                &format!("SELECT purpose FROM access_log WHERE request_id = '{request_id}'")
            ),
            text
        );
        let entries = app
            .get(&format!(
                "/v1/access-logs?subject_id={subject}&action=subject.read"
            ))
            .await
            .json();
        let entry = entries["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["request_id"] == request_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(entry["purpose"], text);
        let csv = app
            .send(
                TestRequest::get()
                    .uri(&format!(
                        "/v1/access-logs?subject_id={subject}&action=subject.read"
                    ))
                    .insert_header(("Authorization", format!("Bearer {}", staff_token())))
                    .insert_header(("Accept", "text/csv")),
            )
            .await;
        csv.assert_status(200);
        let csv = String::from_utf8(csv.body).unwrap();
        let row = parse_csv(&csv)
            .into_iter()
            .find(|fields| fields.get(8) == Some(&request_id))
            .unwrap_or_else(|| panic!("no row for {request_id} in {csv}"));
        // A cell a spreadsheet would run as a formula is defused with a leading `'`.
        let shown = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_owned()
        };
        assert_eq!(row[7], shown);
    }
    // Still every table, every row.
    assert_eq!(
        app.db.count("SELECT 1 FROM subjects"),
        NASTY.len() as i64 + 2
    );
    assert!(app.db.count("SELECT 1 FROM access_log") > 0);
}

/// A minimal RFC 4180 reader: quoted fields may hold commas, quotes (doubled) and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[actix_web::test]
async fn filters_with_metacharacters_match_only_their_own_rows() {
    let app = TestApp::spawn().await;
    let emails = [
        "a_c@example.ee",
        "abc@example.ee",
        "a%c@example.ee",
        "azzc@example.ee",
        "a\\c@example.ee",
        "ac@example.ee",
        "o'brien@example.ee",
        "obrien@example.ee",
    ];
    let mut ids = std::collections::HashMap::new();
    for email in emails {
        let mut body = subject_body("Mari");
        body["email"] = json!(email);
        ids.insert(email, created(&app, "/v1/subjects", body).await);
    }
    let list = |query: String| {
        let app = &app;
        async move {
            let res = app.get(&format!("/v1/subjects?{query}")).await;
            res.assert_status(200);
            res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().parse::<Uuid>().unwrap())
                .collect::<Vec<_>>()
        }
    };
    for email in emails {
        let encoded: String = url_encode(email);
        assert_eq!(
            list(format!("email={encoded}")).await,
            [ids[email]],
            "{email}"
        );
    }
    for no_one in [
        "x'OR'1'='1@example.ee",
        "a'--@example.ee",
        "*@example.ee",
        "a_@example.ee",
        "%@example.ee",
        "a%25@example.ee",
    ] {
        assert_eq!(
            list(format!("email={}", url_encode(no_one))).await,
            Vec::<Uuid>::new(),
            "{no_one}"
        );
    }
    for bad in ["%", "' OR 1=1 --", "a@b", "\\"] {
        let res = app
            .get(&format!("/v1/subjects?email={}", url_encode(bad)))
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["email"], "{bad}");
        let res = app
            .get(&format!("/v1/subjects?personal_code={}", url_encode(bad)))
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["personal_code"], "{bad}");
    }
    // The access log's free-text filter is exact too.
    let entries = |query: String| {
        let app = &app;
        async move {
            let res = app.get(&format!("/v1/access-logs?{query}")).await;
            res.assert_status(200);
            res.json()["items"].as_array().unwrap().len()
        }
    };
    assert!(entries("actor=tester".into()).await > 0);
    for pattern in ["%25", "_ester", "tester%25", "'%20OR%20'1'='1", "tester'--"] {
        assert_eq!(entries(format!("actor={pattern}")).await, 0, "{pattern}");
    }
    for bad in ["status=active'%20OR%20'1'='1", "category=%25"] {
        let res = app.get(&format!("/v1/recipients?{bad}")).await;
        res.assert_problem(400, "validation-failed");
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------- control characters

/// Control characters no stored text may hold (NUL first); line breaks and tabs are tried
/// separately on the fields that must be one line.
const CONTROLS: [&str; 7] = [
    "\u{0}",
    "\u{7}",
    "\u{8}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{9b}2J",
];

#[actix_web::test]
async fn control_characters_and_nul_are_refused_in_every_text_field_naming_it() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let endpoints = body_endpoints(&fx);
    // (endpoint index, base body, field, single line)
    let mut cases: Vec<(usize, Value, String, bool)> = Vec::new();
    let third_party = with(
        with(subject_body("Anu"), "source.type", json!("third_party")),
        "source.lawful_collection_attestation",
        json!("signed"),
    );
    for (field, one_line) in [
        ("given_name", true),
        ("family_name", true),
        ("address.street", false),
        ("address.city", false),
        ("address.postal_code", false),
        ("source.name", false),
        ("source.reference", false),
        ("source.lawful_collection_attestation", false),
    ] {
        cases.push((0, third_party.clone(), field.to_owned(), one_line));
    }
    for (field, one_line) in [
        ("reason", false),
        ("given_name", true),
        ("address.street", false),
        ("source.name", false),
    ] {
        cases.push((1, endpoints[1].body.clone(), field.to_owned(), one_line));
    }
    cases.push((2, endpoints[2].body.clone(), "evidence".into(), false));
    cases.push((3, endpoints[3].body.clone(), "description.et".into(), false));
    cases.push((3, endpoints[3].body.clone(), "description.en".into(), false));
    cases.push((4, endpoints[4].body.clone(), "purpose".into(), true));
    cases.push((5, endpoints[5].body.clone(), "name".into(), true));
    cases.push((6, endpoints[6].body.clone(), "name".into(), true));
    for field in ["consent_evidence", "purpose"] {
        cases.push((7, endpoints[7].body.clone(), field.into(), false));
    }
    let by_law = json!({"recipient_id": fx.recipient, "legal_basis": "legal_obligation",
                        "legal_reference": "Planeerimisseadus § 81", "data_categories": ["contact"],
                        "purpose": "proceedings"});
    cases.push((7, by_law, "legal_reference".into(), false));
    cases.push((8, endpoints[8].body.clone(), "reason".into(), false));
    cases.push((9, endpoints[9].body.clone(), "channel".into(), true));
    cases.push((9, endpoints[9].body.clone(), "note".into(), false));

    let before = snapshot(&app);
    for (index, body, field, one_line) in &cases {
        let endpoint = &endpoints[*index];
        let mut bad: Vec<&str> = CONTROLS.to_vec();
        if *one_line {
            bad.extend(["\n", "\r", "\t"]);
        }
        for control in bad {
            let value = json!(format!("Mari{control}Maasikas"));
            let res = send_json(&app, endpoint, &with(body.clone(), field, value)).await;
            assert_eq!(
                res.status.as_u16(),
                400,
                "{} accepted {control:?} in {field}",
                endpoint.name()
            );
            res.assert_problem(400, "validation-failed");
            assert_eq!(
                res.bad_fields(),
                std::slice::from_ref(field),
                "{} {control:?}",
                endpoint.name()
            );
        }
        // A JSON key with a NUL is refused as well, named printably.
        let res = send_json(&app, endpoint, &with(body.clone(), "x\u{0}y", json!(1))).await;
        res.assert_problem(400, "validation-failed");
        assert!(res.bad_fields().iter().all(|f| !f.contains('\0')));
    }
    assert_eq!(snapshot(&app), before, "a refused body stored something");

    // Multi-line fields keep their line breaks and tabs.
    let res = send_json(
        &app,
        &endpoints[9],
        &with(
            endpoints[9].body.clone(),
            "note",
            json!("first line\nsecond\tline"),
        ),
    )
    .await;
    res.assert_status(201);
    assert_eq!(res.json()["note"], "first line\nsecond\tline");

    // The stated purpose is one line of printable text.
    let read = format!("/v1/subjects/{}", fx.subject);
    for control in ["\u{85}", "\u{9b}2J", "\t", "\u{80}"] {
        let purpose = format!("audit{control}check");
        let entries = app.db.count("SELECT 1 FROM access_log");
        let res = app
            .send(
                TestRequest::get()
                    .uri(&read)
                    .insert_header(("Authorization", format!("Bearer {}", staff_token())))
                    .insert_header((
                        "X-Access-Purpose",
                        HeaderValue::from_bytes(purpose.as_bytes()).unwrap(),
                    )),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["X-Access-Purpose"], "{control:?}");
        assert!(res.json().get("given_name").is_none());
        assert_eq!(app.db.count("SELECT 1 FROM access_log"), entries);
    }
}

/// The actor of every record and log entry is the token's `sub`: a signed token whose `sub` holds
/// a control character is refused before anything is stored. A NUL there used to fail the
/// group commit of the access log, and with it the reads of every other caller in that batch.
#[actix_web::test]
async fn a_token_whose_sub_holds_control_characters_is_refused() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let read = format!("/v1/subjects/{}", fx.subject);
    let before = snapshot(&app);
    let denied = app.db.count("SELECT 1 FROM access_log");
    for sub in [
        "a\u{0}b",
        "\u{0}",
        "a\u{1b}[2Jb",
        "a\nb",
        "a\u{85}b",
        "a\u{7f}",
    ] {
        let token = token_for(sub, &staff(), None);
        let bearer = ("Authorization", format!("Bearer {token}"));
        // Concurrent honest reads share the log's commits with the attempt.
        let honest = (0..8).map(|_| app.get(&read));
        let attempts = async {
            let read = app
                .send(TestRequest::get().uri(&read).insert_header(bearer.clone()))
                .await;
            let create = app
                .send(
                    TestRequest::post()
                        .uri("/v1/subjects")
                        .insert_header(bearer.clone())
                        .set_json(subject_body("Anu")),
                )
                .await;
            (read, create)
        };
        let (honest, (read, create)) =
            futures_util::future::join(futures_util::future::join_all(honest), attempts).await;
        for res in [&read, &create] {
            let problem = res.assert_problem(401, "unauthorized");
            assert_eq!(problem["detail"], "invalid token: bad `sub`", "{sub:?}");
        }
        for res in honest {
            res.assert_status(200);
        }
    }
    // Only the honest reads were logged.
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE actor <> 'tester'"),
        0
    );
    assert!(app.db.count("SELECT 1 FROM access_log") > denied);
    assert_eq!(
        app.db.count("SELECT 1 FROM subjects"),
        before.split(':').next().unwrap().parse::<i64>().unwrap()
    );
}

// ---------------------------------------------------------------- malformed bodies

/// A valid body padded with trailing whitespace to exactly `len` bytes.
fn padded_to(body: &Value, len: usize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(body).unwrap();
    assert!(bytes.len() <= len);
    bytes.resize(len, b' ');
    bytes
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413_problems_and_store_nothing() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let token = staff_token();
    let before = snapshot(&app);
    for endpoint in body_endpoints(&fx) {
        let limit = if endpoint.path == "/v1/consents/eligibility" {
            MAX_BULK_JSON_BYTES
        } else {
            MAX_JSON_BYTES
        };
        for len in [limit + 1, limit + 64 * 1024, MAX_BULK_JSON_BYTES + 1] {
            let res = send_raw(
                &app,
                &endpoint,
                &token,
                Some("application/json"),
                padded_to(&endpoint.body, len),
            )
            .await;
            res.assert_problem(413, "payload-too-large");
        }
    }
    assert_eq!(snapshot(&app), before);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE outcome = 'denied'"),
        0
    );

    // The limits themselves are inclusive: a body of exactly the limit is read.
    let endpoints = body_endpoints(&fx);
    let res = send_raw(
        &app,
        &endpoints[0],
        &token,
        Some("application/json"),
        padded_to(&endpoints[0].body, MAX_JSON_BYTES),
    )
    .await;
    res.assert_status(201);
    let res = send_raw(
        &app,
        &endpoints[4],
        &token,
        Some("application/json"),
        padded_to(&endpoints[4].body, MAX_BULK_JSON_BYTES),
    )
    .await;
    res.assert_status(200);
}

#[actix_web::test]
async fn deeply_nested_json_is_a_400_problem_without_a_crash() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let token = staff_token();
    let depth = 10_000;
    let arrays = "[".repeat(depth) + &"]".repeat(depth);
    let objects = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
    let unclosed = "[".repeat(depth);
    let before = snapshot(&app);
    for endpoint in body_endpoints(&fx) {
        let inside_a_field = format!("{{\"reason\": {arrays}, \"given_name\": {objects}}}");
        for body in [&arrays, &objects, &unclosed, &inside_a_field] {
            let res = send_raw(
                &app,
                &endpoint,
                &token,
                Some("application/json"),
                body.clone().into_bytes(),
            )
            .await;
            res.assert_problem(400, "validation-failed");
            assert_eq!(res.bad_fields(), ["body"], "{}", endpoint.name());
        }
    }
    assert_eq!(snapshot(&app), before);
    // Nesting that JSON allows but no field does is named, not a crash.
    let shallow = "[".repeat(100) + &"]".repeat(100);
    let endpoints = body_endpoints(&fx);
    let body = format!("{{\"purpose\": \"marketing_planpro\", \"subject_ids\": {shallow}}}");
    let res = send_raw(
        &app,
        &endpoints[4],
        &token,
        Some("application/json"),
        body.into_bytes(),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    // The service is still there.
    app.get(&format!("/v1/subjects/{}", fx.subject))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn bodies_that_are_not_utf8_are_400_problems() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let token = staff_token();
    let before = snapshot(&app);
    for endpoint in body_endpoints(&fx) {
        let valid = serde_json::to_string(&endpoint.body).unwrap();
        // Swap the body's first string value for bytes that are no UTF-8 text.
        let start = valid.find(":\"").unwrap() + 2;
        for bad in [
            &b"\xff\xfe"[..],
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"Mari\x80",
            b"\xf4\x90\x80\x80",
        ] {
            let mut bytes = valid.as_bytes()[..start].to_vec();
            bytes.extend_from_slice(bad);
            bytes.extend_from_slice(&valid.as_bytes()[start..]);
            let res = send_raw(&app, &endpoint, &token, Some("application/json"), bytes).await;
            res.assert_problem(400, "validation-failed");
            assert_eq!(res.bad_fields(), ["body"], "{}", endpoint.name());
        }
        // A lone surrogate escape is no Unicode text either.
        let lone = valid.replacen(":\"", ":\"\\ud800", 1);
        let res = send_raw(
            &app,
            &endpoint,
            &token,
            Some("application/json"),
            lone.into_bytes(),
        )
        .await;
        res.assert_problem(400, "validation-failed");
        // UTF-16 is not JSON's encoding here.
        let utf16: Vec<u8> = valid.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let res = send_raw(&app, &endpoint, &token, Some("application/json"), utf16).await;
        res.assert_problem(400, "validation-failed");
    }
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn bodies_of_another_content_type_are_415_and_store_nothing() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let token = staff_token();
    let before = snapshot(&app);
    for endpoint in body_endpoints(&fx) {
        let json = serde_json::to_vec(&endpoint.body).unwrap();
        for content_type in [
            None,
            Some("text/plain"),
            Some("text/json"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/xml"),
            Some("application/jsonx"),
            Some("application/json-seq"),
            Some("application/javascript"),
        ] {
            let res = send_raw(&app, &endpoint, &token, content_type, json.clone()).await;
            res.assert_problem(415, "unsupported-media-type");
        }
    }
    assert_eq!(snapshot(&app), before);
    // Parameters and case do not matter.
    let endpoints = body_endpoints(&fx);
    let res = send_raw(
        &app,
        &endpoints[0],
        &token,
        Some("Application/JSON; charset=utf-8"),
        serde_json::to_vec(&endpoints[0].body).unwrap(),
    )
    .await;
    res.assert_status(201);
}

// ---------------------------------------------------------------- partners on staff endpoints

/// Every operation of the OpenAPI document, as (method, path template).
fn operations() -> Vec<(Method, String)> {
    let document = planpro_privacy::openapi::document();
    let mut out = Vec::new();
    for (template, item) in &document.paths.paths {
        for (method, present) in [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ] {
            if present {
                out.push((method, template.clone()));
            }
        }
    }
    out
}

/// The template with the fixture's ids in it.
fn concrete(template: &str, fx: &Fixture) -> String {
    let id = if template.starts_with("/v1/recipients/") {
        fx.recipient
    } else if template == "/v1/privacy-requests/{id}/close" {
        fx.closable
    } else if template.starts_with("/v1/privacy-requests/") {
        fx.request
    } else if template.starts_with("/v1/retention/rules/") {
        fx.rule
    } else if template.starts_with("/v1/retention/runs/") {
        fx.run
    } else if template.starts_with("/v1/notifications/") {
        fx.notice
    } else {
        fx.subject
    };
    let path = template
        .replace("{id}", &id.to_string())
        .replace("{aid}", &fx.authorization.to_string())
        .replace("{wid}", &fx.webhook.to_string())
        .replace("{hid}", &fx.hold.to_string())
        .replace("{tid}", &uuid::Uuid::nil().to_string())
        .replace("{rid}", &uuid::Uuid::nil().to_string())
        .replace("{did}", &uuid::Uuid::nil().to_string())
        .replace("{entry_id}", &fx.entry.to_string())
        .replace("{event_id}", &fx.event.to_string())
        .replace("{purpose}", "marketing_partners")
        .replace("{n}", "1")
        .replace("{token}", &"A".repeat(43));
    if path.ends_with("/consistency-proof") {
        format!("{path}?from={size}&to={size}", size = fx.size)
    } else if path == "/v1/evidence-bundle" {
        format!("{path}?subject_id={}", fx.subject)
    } else {
        path
    }
}

#[actix_web::test]
async fn a_partner_token_is_refused_by_every_staff_endpoint() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    // The partner may receive this subject, so any leak would have something to show.
    let token = partner_token(fx.recipient);
    app.send(
        TestRequest::get()
            .uri(&format!("/v1/partner/subjects/{}", fx.subject))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
    .assert_status(200);
    let other = created(&app, "/v1/recipients", recipient_body("Teine OÜ")).await;
    let bodies = body_endpoints(&fx);
    let before = snapshot(&app);
    let mut tried = 0;
    let mut attempts_on_the_subject = Vec::new();
    for (method, template) in operations() {
        // The checkpoint's verifier key is public: it needs no token at all.
        if !template.starts_with("/v1/")
            || template.starts_with("/v1/partner/")
            || template == "/v1/access-logs/checkpoint-key"
            // A confirmation link is used without any token (tests/consent_confirmation.rs),
            // and so is its purpose lookup (tests/privacy_pages.rs).
            || template.starts_with("/v1/consents/confirmations")
            // So is a download link (tests/access_downloads.rs).
            || template.starts_with("/v1/downloads/")
        {
            continue;
        }
        let path = concrete(&template, &fx);
        let endpoint = bodies.iter().find(|e| e.method == method && e.path == path);
        let request_id = format!("partner-attempt-{tried}");
        let mut req = TestRequest::default()
            .method(method.clone())
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("X-Request-Id", request_id.clone()));
        if let Some(endpoint) = endpoint {
            req = req.set_json(endpoint.body.clone());
            if let Some(tag) = endpoint.if_match {
                req = req.insert_header(("If-Match", tag));
            }
        } else if SCOPE_FIRST_ONLY.contains(&template.as_str()) {
            // Refused by the scope check before the body is read: any body will do.
            req = req.set_json(json!({}));
        } else {
            assert!(
                method == Method::GET || BODYLESS.contains(&template.as_str()),
                "{method} {template} has no body to send"
            );
        }
        let res = app.send(req).await;
        let problem = res.assert_problem(403, "insufficient-scope");
        assert!(problem.get("items").is_none() && problem.get("given_name").is_none());
        assert!(!String::from_utf8_lossy(&res.body).contains("Maasikas"));
        // A refused attempt on a subject's data is logged as denied, for the partner's recipient.
        if template.starts_with("/v1/subjects/{id}") {
            attempts_on_the_subject.push((format!("{method} {template}"), request_id));
        }
        tried += 1;
    }
    assert!(tried >= 20, "only {tried} staff operations found");
    // Another recipient's record, by id, is a staff endpoint too.
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/recipients/{other}"))
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    res.assert_problem(403, "insufficient-scope");
    assert_eq!(
        snapshot(&app),
        before,
        "a partner changed or read something"
    );
    assert!(attempts_on_the_subject.len() >= 12);
    let unlogged: Vec<&String> = attempts_on_the_subject
        .iter()
        .filter(|(_, request_id)| {
            app.db.count(&format!(
                "SELECT 1 FROM access_log WHERE request_id = '{request_id}' AND outcome = 'denied' \
                 AND actor = 'partner' AND recipient_id = '{}' AND subject_id = '{}'",
                fx.recipient, fx.subject
            )) != 1
        })
        .map(|(operation, _)| operation)
        .collect();
    assert!(unlogged.is_empty(), "refusals not logged: {unlogged:?}");
}

#[actix_web::test]
async fn a_person_s_own_token_is_refused_by_every_other_endpoint() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    crate::me::person(&app, crate::me::CODE).await;
    let token = crate::me::self_token(&format!("EE{}", crate::me::CODE), None);
    let bodies = body_endpoints(&fx);
    let before = snapshot(&app);
    let mut tried = 0;
    for (method, template) in operations() {
        if !template.starts_with("/v1/")
            || template == "/v1/me"
            || template.starts_with("/v1/me/")
            // A person proves their own entries (tests/me_log.rs).
            || template == "/v1/access-logs/{entry_id}/inclusion-proof"
            || template == "/v1/access-logs/checkpoint-key"
            // Confirmation links (and the purpose text they show) take no bearer token.
            || template.starts_with("/v1/consents/confirmations")
            || template.starts_with("/v1/downloads/")
        {
            continue;
        }
        let path = concrete(&template, &fx);
        let mut req = TestRequest::default()
            .method(method.clone())
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {token}")));
        match bodies.iter().find(|e| e.method == method && e.path == path) {
            Some(endpoint) => {
                req = req.set_json(endpoint.body.clone());
                if let Some(tag) = endpoint.if_match {
                    req = req.insert_header(("If-Match", tag));
                }
            }
            None if method != Method::GET => req = req.set_json(json!({})),
            None => {}
        }
        let res = app.send(req).await;
        assert_eq!(res.status.as_u16(), 403, "{method} {template}");
        assert!(!String::from_utf8_lossy(&res.body).contains("Maasikas"));
        tried += 1;
    }
    assert!(tried >= 60, "only {tried} operations walked");
    assert_eq!(
        snapshot(&app),
        before,
        "a person's token changed or read something"
    );
    let actors = app
        .db
        .scalar("SELECT string_agg(DISTINCT actor, ',') FROM access_log WHERE outcome = 'denied'");
    assert_eq!(actors, "subject:unknown", "refusals name nobody's code");
}

// ---------------------------------------------------------------- response headers

/// Asserts the headers every response must carry, and `no-store` where it may hold personal data.
#[track_caller]
fn assert_hygiene(res: &Resp, what: &str, personal: bool) {
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what} ({})",
        res.status
    );
    if personal {
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("no-store"),
            "{what} ({})",
            res.status
        );
    }
}

#[actix_web::test]
async fn personal_data_is_never_cacheable_and_no_response_may_be_sniffed() {
    let app = TestApp::spawn().await;
    let fx = arrange(&app).await;
    let staff_token = staff_token();
    let partner = partner_token(fx.recipient);
    let get = |path: String, token: String, accept: &'static str| {
        let app = &app;
        async move {
            app.send(
                TestRequest::get()
                    .uri(&path)
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .insert_header(("Accept", accept)),
            )
            .await
        }
    };

    // Every documented read, successful, as staff or partner.
    let activity = crate::activities::create_activity(&app, crate::activities::activity_body())
        .await["id"]
        .as_str()
        .map(str::to_owned)
        .expect("an activity id");
    let breach = app
        .post(
            "/v1/breaches",
            json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["confidentiality"],
                   "description": "an export was mailed to a wrong address",
                   "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
                   "actor": "mari.tamm@planpro.ee", "data_categories": ["identity"]}),
        )
        .await;
    breach.assert_status(201);
    let breach = id_of(&breach);
    crate::me::person(&app, crate::me::CODE).await;
    let me_token = crate::me::self_token(&format!("EE{}", crate::me::CODE), None);
    let mut walked = 0;
    for (method, template) in operations() {
        if method != Method::GET {
            continue;
        }
        let path = match template.strip_prefix("/v1/processing-activities/{id}") {
            Some(rest) => format!("/v1/processing-activities/{activity}{rest}"),
            None if template.starts_with("/v1/breaches/{id}") => {
                template.replace("{id}", &breach.to_string())
            }
            None if template == "/v1/ropa/conformance" => {
                format!("{template}?from=2026-11-01&to=2026-11-30")
            }
            None => concrete(&template, &fx),
        };
        let token = if template.starts_with("/v1/partner/") {
            partner.clone()
        } else if template == "/v1/me" || template.starts_with("/v1/me/") {
            me_token.clone()
        } else {
            staff_token.clone()
        };
        let res = get(path.clone(), token, "application/json").await;
        if template.starts_with("/v1/") {
            res.assert_status(200);
        }
        assert_hygiene(&res, &path, template.starts_with("/v1/"));
        walked += 1;
    }
    assert!(walked >= 18, "only {walked} reads walked");
    // The streamed forms of the access log and the export.
    for accept in ["application/x-ndjson", "text/csv"] {
        for path in ["/v1/access-logs", "/v1/consents"] {
            let res = get(path.into(), staff_token.clone(), accept).await;
            res.assert_status(200);
            assert_hygiene(&res, accept, true);
        }
    }
    let res = get(
        format!("/v1/subjects/{}/export", fx.subject),
        staff_token.clone(),
        "application/json",
    )
    .await;
    res.assert_status(200);
    assert!(String::from_utf8_lossy(&res.body).contains("Maasikas"));
    assert_hygiene(&res, "export", true);

    // Every change answers with the record it made.
    for endpoint in body_endpoints(&fx) {
        let res = send_json(&app, &endpoint, &endpoint.body).await;
        assert!(
            res.status.is_success(),
            "{}: {}",
            endpoint.name(),
            res.status
        );
        assert_hygiene(&res, &endpoint.name(), true);
    }

    // Refusals and errors of every kind.
    let subject = format!("/v1/subjects/{}", fx.subject);
    let endpoints = body_endpoints(&fx);
    let errors = vec![
        ("401", app.send(TestRequest::get().uri(&subject)).await),
        (
            "403",
            get(subject.clone(), partner.clone(), "application/json").await,
        ),
        (
            "404",
            get(
                format!("/v1/subjects/{}", Uuid::now_v7()),
                staff_token.clone(),
                "application/json",
            )
            .await,
        ),
        (
            "400",
            get(
                "/v1/subjects/nope".into(),
                staff_token.clone(),
                "application/json",
            )
            .await,
        ),
        (
            "partner 403",
            get(
                format!("/v1/partner/subjects/{}", Uuid::now_v7()),
                partner.clone(),
                "application/json",
            )
            .await,
        ),
        (
            "413",
            send_raw(
                &app,
                &endpoints[0],
                &staff_token,
                Some("application/json"),
                padded_to(&endpoints[0].body, MAX_JSON_BYTES + 1),
            )
            .await,
        ),
        (
            "415",
            send_raw(
                &app,
                &endpoints[0],
                &staff_token,
                Some("text/plain"),
                b"x".to_vec(),
            )
            .await,
        ),
        ("405", app.send(TestRequest::delete().uri(&subject)).await),
        (
            "412",
            send_raw(
                &app,
                &BodyEndpoint {
                    if_match: Some("\"99\""),
                    ..body_endpoints(&fx).remove(1)
                },
                &staff_token,
                Some("application/json"),
                serde_json::to_vec(&endpoints[1].body).unwrap(),
            )
            .await,
        ),
    ];
    for (what, res) in &errors {
        assert!(res.status.is_client_error(), "{what}: {}", res.status);
        assert_hygiene(res, what, true);
    }
    // Outside /v1: operations, documents, unknown routes.
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs/",
        "/docs",
        "/nowhere",
        "/v1/nowhere",
    ] {
        let res = app.send(TestRequest::get().uri(path)).await;
        assert_hygiene(&res, path, false);
    }
}
