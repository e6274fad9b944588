//! Erasure (Art. 17), restriction (Art. 18) and holds (Art. 17(3)): what each changes, what
//! every other endpoint answers afterwards, their bad input, and erasure racing the changes and
//! reads that could interleave with it.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

const CODE: &str = "49403136526";

fn id_of(value: &Value) -> Uuid {
    Uuid::parse_str(value["id"].as_str().expect("an id")).expect("a UUID")
}

async fn subject(app: &TestApp, code: Option<&str>) -> Uuid {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "personal_code": code, "email": "mari@example.ee", "phone": "+3725551234",
                   "address": {"street": "Pikk 1", "city": "Tallinn", "country": "EE"},
                   "source": {"type": "third_party", "name": "Partner OÜ",
                              "lawful_collection_attestation": "statement 17-A"}}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn recipient(app: &TestApp) -> Uuid {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn authorize(app: &TestApp, subject: Uuid, recipient: Uuid) -> Uuid {
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "consent_evidence": "signed form", "data_categories": ["identity", "contact"],
                   "purpose": "offers"}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn put(app: &TestApp, path: &str, body: Value) -> Resp {
    app.call(Method::PUT, path, &staff(), Some(body)).await
}

async fn rectify(app: &TestApp, subject: Uuid, version: i64, body: Value) -> Resp {
    let req = TestRequest::patch()
        .uri(&format!("/v1/subjects/{subject}"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .insert_header(("If-Match", format!("\"{version}\"")))
        .set_json(body);
    app.send(req).await
}

async fn partner_get(app: &TestApp, recipient: Uuid, path: &str) -> Resp {
    let token = token_for("partner", &[Scope::Partner], Some(recipient));
    app.send(
        TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

async fn erase(app: &TestApp, subject: Uuid, body: Value) -> Resp {
    app.post(&format!("/v1/subjects/{subject}/erasure"), body)
        .await
}

async fn eligibility(app: &TestApp, purpose: &str, ids: &[Uuid]) -> Value {
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"purpose": purpose, "subject_ids": ids}),
        )
        .await;
    res.assert_status(200);
    res.json()
}

fn listed(value: &Value, id: Uuid) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i.as_str() == Some(&id.to_string())))
}

fn partner_list_has(page: &Value, id: Uuid) -> bool {
    listed(&page["items"], id)
}

#[actix_web::test]
async fn an_erasure_withdraws_revokes_forgets_and_leaves_ids_and_history() {
    let app = TestApp::spawn().await;
    let id = subject(&app, Some(CODE)).await;
    let partner = recipient(&app).await;
    let grant = authorize(&app, id, partner).await;
    put(
        &app,
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        json!({"status": "granted", "method": "web_form", "evidence": "form 1"}),
    )
    .await
    .assert_status(200);
    rectify(
        &app,
        id,
        1,
        json!({"phone": "+3725550000", "reason": "new number"}),
    )
    .await
    .assert_status(200);
    partner_get(&app, partner, &format!("/v1/partner/subjects/{id}"))
        .await
        .assert_status(200);
    let event = app.db.scalar(&format!(
        "SELECT id FROM consent_events WHERE subject_id = '{id}' LIMIT 1"
    ));

    let res = erase(&app, id, json!({"reason": "asked for by the person"})).await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["subject_id"], id.to_string());
    let erased_at = body["erased_at"].as_str().expect("erased_at").to_owned();

    // Every purpose withdrawn, each by an event of the erasure's actor, method `api`.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM consents WHERE subject_id = '{id}' AND status = 'withdrawn'"
        )),
        app.db.count("SELECT 1 FROM purposes")
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM consent_events WHERE subject_id = '{id}' AND actor = 'tester' \
             AND method = 'api' AND status = 'withdrawn'"
        )),
        2
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM disclosure_authorizations WHERE subject_id = '{id}' AND revoked_at IS NULL"
        )),
        0
    );
    // No personal value left on the row, nor the data key that sealed the history; the history
    // tables keep their rows, which no longer open.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subjects WHERE id = '{id}' AND num_nonnulls(given_name_enc, \
             family_name_enc, personal_code_enc, email_enc, phone_enc, address_street_enc, \
             address_city_enc, address_country_enc, source_name_enc, source_attestation_enc, \
             personal_code_bidx, email_bidx, preferred_language) = 0"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subject_keys WHERE subject_id = '{id}'"
        )),
        0
    );
    assert!(app
        .db
        .rectifications(id)
        .iter()
        .all(|r| r.old_value.is_none() && r.new_value.is_none() && r.reason.is_empty()));
    assert!(
        app.db.count(&format!(
            "SELECT 1 FROM rectifications WHERE subject_id = '{id}'"
        )) > 0
    );
    assert!(
        app.db.count(&format!(
            "SELECT 1 FROM disclosures WHERE subject_id = '{id}'"
        )) > 0
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE subject_id = '{id}' AND action = 'subject.erase' \
             AND outcome = 'allowed'"
        )),
        1
    );

    // 410 with erased_at everywhere under the subject's path but its access log and holds.
    let gone = [
        (Method::GET, format!("/v1/subjects/{id}"), None),
        (
            Method::PATCH,
            format!("/v1/subjects/{id}"),
            Some(json!({"reason": "x", "phone": null})),
        ),
        (
            Method::GET,
            format!("/v1/subjects/{id}/rectifications"),
            None,
        ),
        (Method::GET, format!("/v1/subjects/{id}/export"), None),
        (Method::GET, format!("/v1/subjects/{id}/consents"), None),
        (
            Method::GET,
            format!("/v1/subjects/{id}/consents/history"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/subjects/{id}/consents/history/{event}/receipt"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/subjects/{id}/consents/marketing_planpro"),
            Some(json!({"status": "granted", "method": "api"})),
        ),
        (
            Method::GET,
            format!("/v1/subjects/{id}/disclosure-authorizations"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/disclosure-authorizations"),
            Some(json!({"recipient_id": partner, "legal_basis": "consent",
                        "consent_evidence": "again", "data_categories": ["identity"],
                        "purpose": "offers"})),
        ),
        (Method::GET, format!("/v1/subjects/{id}/disclosures"), None),
        (
            Method::GET,
            format!("/v1/subjects/{id}/disclosure-authorizations/{grant}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/disclosure-authorizations/{grant}/revoke"),
            Some(json!({"reason": "again"})),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/restriction/lift"),
            Some(json!({"reason": "x"})),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/holds/{}/release", Uuid::now_v7()),
            Some(json!({"reason": "x"})),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/disclosures"),
            Some(
                json!({"recipient_id": partner, "data_categories": ["identity"],
                        "channel": "email"}),
            ),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/restriction"),
            Some(json!({"ground": "legal_claims", "reason": "x"})),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/holds"),
            Some(json!({"ground": "legal_claims", "legal_reference": "x",
                        "review_on": "2099-01-01"})),
        ),
        (
            Method::POST,
            format!("/v1/subjects/{id}/erasure"),
            Some(json!({"reason": "again"})),
        ),
    ];
    for (method, path, body) in gone {
        let mut req = TestRequest::default()
            .method(method.clone())
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("If-Match", "\"2\""));
        if let Some(body) = body {
            req = req.set_json(body);
        }
        let res = app.send(req).await;
        let problem = res.assert_problem(410, "subject-erased");
        assert_eq!(problem["erased_at"], erased_at.as_str(), "{method} {path}");
    }
    app.get(&format!("/v1/subjects/{id}/access-logs"))
        .await
        .assert_status(200);
    app.get(&format!("/v1/subjects/{id}/holds"))
        .await
        .assert_status(200);

    // Gone from lists, refused to partners like a stranger, never eligible.
    let list = app.get("/v1/subjects?limit=1000").await;
    assert!(!listed(
        &Value::Array(
            list.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].clone())
                .collect()
        ),
        id
    ));
    let by_code = app.get(&format!("/v1/subjects?personal_code={CODE}")).await;
    assert_eq!(by_code.json()["items"], json!([]));
    partner_get(&app, partner, &format!("/v1/partner/subjects/{id}"))
        .await
        .assert_problem(403, "disclosure-not-authorized");
    let page = partner_get(&app, partner, "/v1/partner/subjects").await;
    assert!(!partner_list_has(&page.json(), id));
    for purpose in ["marketing_planpro", "marketing_partners"] {
        assert!(listed(
            &eligibility(&app, purpose, &[id]).await["not_eligible"],
            id
        ));
    }
    let verify = app.get("/v1/access-logs/verify").await;
    assert_eq!(verify.json()["ok"], true, "{}", verify.json());

    // The personal code may be registered again; the history stays append-only.
    let again = subject(&app, Some(CODE)).await;
    assert_ne!(again, id);
    let mut conn = app.db.conn();
    use diesel::RunQueryDsl;
    assert!(diesel::sql_query(format!(
        "DELETE FROM consent_events WHERE subject_id = '{id}'"
    ))
    .execute(&mut conn)
    .is_err());
    assert!(diesel::sql_query(format!(
        "UPDATE erasures SET reason = 'x' WHERE subject_id = '{id}'"
    ))
    .execute(&mut conn)
    .is_err());
}

#[actix_web::test]
async fn bad_erasures_name_every_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let res = erase(&app, id, json!({})).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["reason"]);
    let res = erase(
        &app,
        id,
        json!({"reason": "  ", "privacy_request_id": Uuid::now_v7()}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["privacy_request_id", "reason"]);
    let res = erase(
        &app,
        id,
        json!({"reason": "x", "privacy_request_id": "nope"}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["privacy_request_id"]);
    // Without the scope: 403 and a denied entry; an unknown subject: 404.
    let res = app
        .call(
            Method::POST,
            &format!("/v1/subjects/{id}/erasure"),
            &[Scope::SubjectsWrite],
            Some(json!({"reason": "x"})),
        )
        .await;
    res.assert_problem(403, "insufficient-scope");
    erase(&app, Uuid::now_v7(), json!({"reason": "x"}))
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/subjects/{id}"))
        .await
        .assert_status(200);
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 0);
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), 0);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'subject.erase' AND outcome = 'denied'"
        ),
        1
    );
    // Once erased, a bad body is still a 400 (bad input first), a good one the 410.
    erase(&app, id, json!({"reason": "asked"}))
        .await
        .assert_status(200);
    let res = erase(&app, id, json!({"reason": ""})).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["reason"]);
    erase(&app, id, json!({"reason": "again"}))
        .await
        .assert_problem(410, "subject-erased");
}

async fn privacy_request(app: &TestApp, kind: &str, subject: Option<Uuid>) -> Value {
    let res = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": kind, "subject_id": subject, "channel": "email",
                   "received_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
        )
        .await;
    res.assert_status(201);
    res.json()
}

async fn close(app: &TestApp, request: &Value, outcome: &str) -> Resp {
    let req = TestRequest::post()
        .uri(&format!(
            "/v1/privacy-requests/{}/close",
            request["id"].as_str().unwrap()
        ))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .insert_header(("If-Match", format!("\"{}\"", request["version"])))
        .set_json(json!({"outcome": outcome}));
    app.send(req).await
}

#[actix_web::test]
async fn an_erasure_request_closes_as_fulfilled_only_once_its_erasure_is_done() {
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let other = subject(&app, None).await;
    let request = privacy_request(&app, "erasure", Some(id)).await;
    close(&app, &request, "fulfilled")
        .await
        .assert_problem(409, "request-not-fulfilled");
    // The request must be an open erasure request about this very subject.
    let access = privacy_request(&app, "access", Some(id)).await;
    let unlinked = privacy_request(&app, "erasure", None).await;
    for wrong in [&access, &unlinked] {
        let res = erase(
            &app,
            id,
            json!({"reason": "x", "privacy_request_id": wrong["id"]}),
        )
        .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["privacy_request_id"]);
    }
    let res = erase(
        &app,
        other,
        json!({"reason": "x", "privacy_request_id": request["id"]}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["privacy_request_id"]);
    let closed = privacy_request(&app, "erasure", Some(other)).await;
    close(&app, &closed, "withdrawn").await.assert_status(200);
    erase(
        &app,
        other,
        json!({"reason": "x", "privacy_request_id": closed["id"]}),
    )
    .await
    .assert_problem(409, "request-closed");
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 0);

    erase(
        &app,
        id,
        json!({"reason": "request PR-1", "privacy_request_id": request["id"]}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT privacy_request_id FROM erasures WHERE subject_id = '{id}'"
        )),
        request["id"].as_str().unwrap()
    );
    let res = close(&app, &request, "fulfilled").await;
    res.assert_status(200);
    assert_eq!(res.json()["status"], "closed");
}

#[actix_web::test]
async fn a_hold_blocks_erasure_until_released_and_outlives_it() {
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let holds = format!("/v1/subjects/{id}/holds");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
    let res = app
        .post(
            &holds,
            json!({"ground": "whim", "legal_reference": " ", "review_on": yesterday}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["ground"]);
    let res = app
        .post(
            &holds,
            json!({"ground": "legal_claims", "legal_reference": " ", "review_on": yesterday}),
        )
        .await;
    assert_eq!(res.bad_fields(), ["legal_reference", "review_on"]);
    assert_eq!(app.db.count("SELECT 1 FROM holds"), 0);

    let res = app
        .post(
            &holds,
            json!({"ground": "legal_claims", "legal_reference": "case 2-26-17",
                   "review_on": "2099-01-01"}),
        )
        .await;
    res.assert_status(201);
    let hold = res.json();
    assert_eq!(hold["released_at"], Value::Null);
    assert_eq!(hold["review_on"], "2099-01-01");
    let problem = erase(&app, id, json!({"reason": "x"}))
        .await
        .assert_problem(409, "subject-on-hold");
    assert_eq!(problem["hold_id"], hold["id"]);
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), 0);
    let listed = app.get(&holds).await;
    listed.assert_status(200);
    assert_eq!(listed.json()["items"][0]["id"], hold["id"]);
    let export = app.get(&format!("/v1/subjects/{id}/export")).await;
    assert_eq!(export.json()["holds"][0]["id"], hold["id"]);

    let release = format!("{holds}/{}/release", hold["id"].as_str().unwrap());
    app.post(&release, json!({"reason": ""}))
        .await
        .assert_problem(400, "validation-failed");
    let res = app
        .post(&release, json!({"reason": "the case ended"}))
        .await;
    res.assert_status(200);
    assert!(res.json()["released_at"].is_string());
    app.post(&release, json!({"reason": "again"}))
        .await
        .assert_problem(409, "hold-released");
    erase(&app, id, json!({"reason": "x"}))
        .await
        .assert_status(200);
    let after = app.get(&holds).await;
    after.assert_status(200);
    assert_eq!(after.json()["items"].as_array().map(Vec::len), Some(1));
    for action in ["hold.create", "hold.release", "hold.read"] {
        assert!(
            app.db.count(&format!(
                "SELECT 1 FROM access_log WHERE action = '{action}' AND subject_id = '{id}' \
                 AND outcome = 'allowed'"
            )) >= 1,
            "{action}"
        );
    }
}

#[actix_web::test]
async fn a_restriction_stops_use_and_disclosure_but_not_reads_or_corrections() {
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let partner = recipient(&app).await;
    authorize(&app, id, partner).await;
    let path = format!("/v1/subjects/{id}/restriction");
    let res = app
        .post(&path, json!({"ground": "boredom", "reason": ""}))
        .await;
    assert_eq!(res.bad_fields(), ["ground"]);
    app.post(&format!("{path}/lift"), json!({"reason": "nothing"}))
        .await
        .assert_problem(409, "not-restricted");
    // An opt-out purpose without a decision: eligible until restricted.
    assert!(listed(
        &eligibility(&app, "marketing_planpro", &[id]).await["eligible"],
        id
    ));

    let res = app
        .post(
            &path,
            json!({"ground": "accuracy_contested", "reason": "the address is contested"}),
        )
        .await;
    res.assert_status(200);
    let restriction = res.json();
    assert_eq!(restriction["ground"], "accuracy_contested");
    assert_eq!(restriction["reason"], "the address is contested");
    app.post(&path, json!({"ground": "legal_claims", "reason": "again"}))
        .await
        .assert_problem(409, "already-restricted");

    let record = app.get(&format!("/v1/subjects/{id}")).await;
    record.assert_status(200);
    assert_eq!(record.json()["restriction"]["ground"], "accuracy_contested");
    assert_eq!(record.json()["restriction"]["since"], restriction["since"]);
    for purpose in ["marketing_planpro", "marketing_partners"] {
        assert!(listed(
            &eligibility(&app, purpose, &[id]).await["not_eligible"],
            id
        ));
    }
    partner_get(&app, partner, &format!("/v1/partner/subjects/{id}"))
        .await
        .assert_problem(403, "disclosure-not-authorized");
    assert!(!partner_list_has(
        &partner_get(&app, partner, "/v1/partner/subjects")
            .await
            .json(),
        id
    ));
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": partner, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_problem(403, "subject-restricted");
    assert_eq!(app.db.count("SELECT 1 FROM disclosures"), 0);
    // Reads, rectification and consent changes still work.
    rectify(
        &app,
        id,
        1,
        json!({"address": {"street": "Lai 2"}, "reason": "verified"}),
    )
    .await
    .assert_status(200);
    put(
        &app,
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        json!({"status": "granted", "method": "email", "evidence": "mail"}),
    )
    .await
    .assert_status(200);
    let export = app.get(&format!("/v1/subjects/{id}/export")).await;
    assert_eq!(
        export.json()["restriction"]["reason"],
        "the address is contested"
    );

    let res = app
        .post(&format!("{path}/lift"), json!({"reason": "verified"}))
        .await;
    res.assert_status(200);
    assert!(res.json()["lifted_at"].is_string());
    assert_eq!(
        app.get(&format!("/v1/subjects/{id}")).await.json()["restriction"],
        Value::Null
    );
    assert!(listed(
        &eligibility(&app, "marketing_partners", &[id]).await["eligible"],
        id
    ));
    partner_get(&app, partner, &format!("/v1/partner/subjects/{id}"))
        .await
        .assert_status(200);
    for action in ["subject.restrict", "subject.restriction_lift"] {
        assert_eq!(
            app.db.count(&format!(
                "SELECT 1 FROM access_log WHERE action = '{action}' AND subject_id = '{id}' \
                 AND outcome = 'allowed'"
            )),
            1,
            "{action}"
        );
    }
}

#[actix_web::test]
async fn an_erasure_replays_but_an_answer_about_an_erased_subject_does_not() {
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let keyed = |path: String, key: &str, body: Value| {
        TestRequest::post()
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", key.to_owned()))
            .set_json(body)
    };
    let restrict = keyed(
        format!("/v1/subjects/{id}/restriction"),
        "r-1",
        json!({"ground": "legal_claims", "reason": "claims"}),
    );
    app.send(restrict).await.assert_status(200);
    let body = json!({"reason": "asked for"});
    let first = app
        .send(keyed(
            format!("/v1/subjects/{id}/erasure"),
            "e-1",
            body.clone(),
        ))
        .await;
    first.assert_status(200);
    let again = app
        .send(keyed(format!("/v1/subjects/{id}/erasure"), "e-1", body))
        .await;
    again.assert_status(200);
    assert_eq!(again.body, first.body);
    let replay = keyed(
        format!("/v1/subjects/{id}/restriction"),
        "r-1",
        json!({"ground": "legal_claims", "reason": "claims"}),
    );
    app.send(replay).await.assert_problem(410, "subject-erased");
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 1);
}

/// One racing call: its kind and its answer.
type Call<'a> = futures_util::future::LocalBoxFuture<'a, (&'static str, Resp)>;

/// An erasure racing partner reads, consent changes (the group-commit path), a rectification and
/// staff disclosure records: each of them happened wholly before it or is refused after it, and nothing is
/// answered 5xx (no deadlock).
#[actix_web::test]
async fn an_erasure_racing_reads_and_changes_never_interleaves_with_them() {
    let app = TestApp::spawn().await;
    let partner = recipient(&app).await;
    for round in 0..6 {
        let id = subject(&app, None).await;
        authorize(&app, id, partner).await;
        let partner_path = format!("/v1/partner/subjects/{id}");
        let consent_path = format!("/v1/subjects/{id}/consents/marketing_partners");
        let disclosures_path = format!("/v1/subjects/{id}/disclosures");
        let mut calls: Vec<Call<'_>> = Vec::new();
        for i in 0..12 {
            match (i + round) % 5 {
                0 => calls.push(Box::pin(async {
                    ("erase", erase(&app, id, json!({"reason": "race"})).await)
                })),
                1 => calls.push(Box::pin(async {
                    ("read", partner_get(&app, partner, &partner_path).await)
                })),
                2 => calls.push(Box::pin(async {
                    let body = json!({"status": "granted", "method": "email", "evidence": "e"});
                    ("consent", put(&app, &consent_path, body).await)
                })),
                3 => calls.push(Box::pin(async {
                    let body = json!({"phone": "+3725559999", "reason": "race"});
                    ("rectify", rectify(&app, id, 1, body).await)
                })),
                _ => calls.push(Box::pin(async {
                    let body = json!({"recipient_id": partner, "data_categories": ["identity"],
                                      "channel": "email"});
                    ("disclose", app.post(&disclosures_path, body).await)
                })),
            }
        }
        let results = futures_util::future::join_all(calls).await;
        let mut erased = 0;
        for (kind, res) in &results {
            let status = res.status.as_u16();
            assert!(
                status < 500,
                "{kind}: {status} {}",
                String::from_utf8_lossy(&res.body)
            );
            match *kind {
                "erase" if status == 200 => erased += 1,
                "erase" => assert_eq!(status, 410),
                "read" => assert!(status == 200 || status == 403, "{status}"),
                "consent" => assert!(status == 200 || status == 410, "{status}"),
                "disclose" => assert!([201, 403, 410].contains(&status), "{status}"),
                _ => assert!([200, 410, 412].contains(&status), "{status}"),
            }
        }
        assert_eq!(erased, 1, "exactly one erasure succeeds");
        let reads = results
            .iter()
            .filter(|(k, r)| *k == "read" && r.status.as_u16() == 200)
            .count() as i64;
        let consents = results
            .iter()
            .filter(|(k, r)| *k == "consent" && r.status.as_u16() == 200)
            .count() as i64;
        let rectified = results
            .iter()
            .filter(|(k, r)| *k == "rectify" && r.status.as_u16() == 200)
            .count() as i64;
        let before = |table: &str, extra: &str| {
            app.db.count(&format!(
                "SELECT 1 FROM {table} t JOIN erasures e ON e.subject_id = t.subject_id \
                 WHERE t.subject_id = '{id}' AND t.at < e.erased_at {extra}"
            ))
        };
        let after = |table: &str, extra: &str| {
            app.db.count(&format!(
                "SELECT 1 FROM {table} t JOIN erasures e ON e.subject_id = t.subject_id \
                 WHERE t.subject_id = '{id}' AND t.at > e.erased_at {extra}"
            ))
        };
        // Every answered read and change is recorded, and before the erasure; nothing after it.
        let disclosed = results
            .iter()
            .filter(|(k, r)| *k == "disclose" && r.status.as_u16() == 201)
            .count() as i64;
        assert_eq!(before("disclosures", ""), reads + disclosed);
        assert_eq!(before("consent_events", "AND t.method = 'email'"), consents);
        assert_eq!(before("rectifications", ""), rectified.min(1));
        for table in ["disclosures", "consent_events", "rectifications"] {
            assert_eq!(after(table, ""), 0, "{table} after the erasure");
        }
        assert_eq!(
            app.db.count(&format!(
                "SELECT 1 FROM subjects WHERE id = '{id}' \
                 AND num_nonnulls(given_name_enc, family_name_enc, phone_enc) = 0"
            )),
            1
        );
        assert_eq!(
            app.db.scalar(&format!(
                "SELECT status FROM consents WHERE subject_id = '{id}' AND purpose_id = 'marketing_partners'"
            )),
            "withdrawn"
        );
    }
}

/// A hold placed while the erasure waits for the subject's row lock (the hold's own transaction
/// holds a key-share lock on it) stops the erasure once it commits: the erasure looks for holds
/// only after it has the lock, not in a snapshot taken before.
#[actix_web::test]
async fn a_hold_committed_while_the_erasure_waits_for_the_lock_stops_it() {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    let app = TestApp::spawn().await;
    let id = subject(&app, None).await;
    let mut placing = app.db.conn();
    let mut watch = app.db.conn();
    placing
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM subjects WHERE id = '{id}' FOR KEY SHARE; \
             INSERT INTO holds (id, subject_id, ground, legal_reference, review_on, created_by, \
               created_at) VALUES (gen_random_uuid(), '{id}', 'legal_claims', 'case 1', \
               '2099-01-01', 'staff', now())"
        ))
        .unwrap();
    let committer = std::thread::spawn(move || {
        // Commits once another backend waits for a row lock: the erasure.
        for _ in 0..500 {
            let waiting: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND datname = current_database()",
            )
            .get_result(&mut watch)
            .unwrap();
            if waiting > 0 {
                placing.batch_execute("COMMIT").unwrap();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        placing.batch_execute("COMMIT").unwrap();
        false
    });
    let res = erase(&app, id, json!({"reason": "waits for the lock"})).await;
    assert!(
        committer.join().unwrap(),
        "the erasure never waited for the lock"
    );
    res.assert_problem(409, "subject-on-hold");
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 0);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subjects WHERE id = '{id}' AND erased_at IS NULL"
        )),
        1
    );
}
