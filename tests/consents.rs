//! Purposes, consent and opt-out flags, their history, and bulk eligibility checks.

use crate::harness::{staff, subject_data, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

const PLANPRO: &str = "marketing_planpro";
const PARTNERS: &str = "marketing_partners";

/// Subjects' endpoints are another resource's: arrange them directly in the database.
fn insert_subject(app: &TestApp) -> Uuid {
    let id = Uuid::now_v7();
    app.db.insert_subject(id, subject_data("Mari", "Maasikas"));
    id
}

async fn put_consent(app: &TestApp, subject: Uuid, purpose: &str, body: Value) -> Resp {
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/{purpose}"),
        &staff(),
        Some(body),
    )
    .await
}

async fn set(app: &TestApp, subject: Uuid, purpose: &str, status: &str) -> Value {
    let res = put_consent(
        app,
        subject,
        purpose,
        json!({"status": status, "method": "web_form"}),
    )
    .await;
    res.assert_status(200);
    res.json()
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

fn ids_of(value: &Value) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

fn flag<'a>(consents: &'a Value, purpose: &str) -> &'a Value {
    consents
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no flag for {purpose} in {consents}"))
}

fn stored_rows(app: &TestApp) -> (i64, i64) {
    (
        app.db.count("SELECT 1 FROM consents"),
        app.db.count("SELECT 1 FROM consent_events"),
    )
}

fn log_entries(app: &TestApp, action: &str, subject: Uuid, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}' AND subject_id = '{subject}' AND outcome = '{outcome}'"
    ))
}

#[actix_web::test]
async fn the_seeded_purposes_are_listed_with_their_bases_and_descriptions() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/purposes").await;
    res.assert_status(200);
    let items = res.json()["items"].as_array().unwrap().clone();
    let basis = |id: &str| {
        items
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    assert_eq!(basis(PLANPRO)["basis"], "opt_out");
    assert_eq!(basis(PARTNERS)["basis"], "opt_in");
    for purpose in &items {
        assert!(!purpose["description"]["et"].as_str().unwrap().is_empty());
        assert!(!purpose["description"]["en"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn a_purpose_is_added_once_and_then_listed() {
    let app = TestApp::spawn().await;
    let body = json!({"id": "newsletter_2027", "basis": "opt_in",
        "description": {"et": "  Uudiskiri.  ", "en": "The newsletter."}});
    let res = app.post("/v1/purposes", body.clone()).await;
    res.assert_status(201);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/v1/purposes/newsletter_2027")
    );
    let created = res.json();
    assert_eq!(created["basis"], "opt_in");
    assert_eq!(
        created["description"],
        json!({"et": "Uudiskiri.", "en": "The newsletter."})
    );
    assert_eq!(created["current_version"], 1);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let listed = app.get("/v1/purposes").await.json();
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "newsletter_2027"));
    let one = app.get("/v1/purposes/newsletter_2027").await;
    one.assert_status(200);
    assert!(one.header("etag").is_some());
    app.get("/v1/purposes/no_such_purpose")
        .await
        .assert_problem(404, "not-found");

    app.post("/v1/purposes", body)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(app.db.count("SELECT 1 FROM purposes"), 3);

    // A new purpose is at once a flag of every subject, with its basis's default.
    let subject = insert_subject(&app);
    let consents = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    assert_eq!(flag(&consents, "newsletter_2027")["status"], "unset");
    assert_eq!(flag(&consents, "newsletter_2027")["eligible"], false);
}

#[actix_web::test]
async fn bad_purposes_are_refused_naming_every_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/purposes",
            json!({"id": "Bad-Id", "basis": "sometimes",
                "description": {"et": "x".repeat(1001)}, "extra": 1}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["basis", "extra"]);

    let res = app
        .post(
            "/v1/purposes",
            json!({"id": "Bad-Id", "basis": "opt_in",
                "description": {"et": "x".repeat(1001), "en": "   "}}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["description.en", "description.et", "id"]);

    let res = app.post("/v1/purposes", json!({"id": "ok_id"})).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["basis", "description"]);

    for id in ["x", "1abc", &format!("a{}", "b".repeat(64))] {
        let res = app
            .post(
                "/v1/purposes",
                json!({"id": id, "basis": "opt_out", "description": {"et": "a", "en": "b"}}),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["id"], "{id}");
    }
    assert_eq!(app.db.count("SELECT 1 FROM purposes"), 2);
}

#[actix_web::test]
async fn purposes_need_the_consent_scopes() {
    let app = TestApp::spawn().await;
    app.call(Method::GET, "/v1/purposes", &[Scope::SubjectsRead], None)
        .await
        .assert_problem(403, "insufficient-scope");
    app.call(
        Method::POST,
        "/v1/purposes",
        &[Scope::ConsentsRead],
        Some(json!({"id": "abc", "basis": "opt_in", "description": {"et": "a", "en": "b"}})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    app.send(TestRequest::get().uri("/v1/purposes"))
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(app.db.count("SELECT 1 FROM purposes"), 2);
}

#[actix_web::test]
async fn unset_flags_follow_their_purposes_basis() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let res = app.get(&format!("/v1/subjects/{subject}/consents")).await;
    res.assert_status(200);
    let consents = res.json();
    assert_eq!(consents.as_array().unwrap().len(), 2);
    let unset = |purpose: &str, eligible: bool| {
        json!({"purpose": purpose, "status": "unset", "eligible": eligible, "updated_at": null,
            "state": "unset", "purpose_version": null, "given_at": null, "expires_at": null,
            "confirmation_expires_at": null, "guardian_subject_id": null,
            "confirmation_token": null})
    };
    assert_eq!(flag(&consents, PLANPRO), &unset(PLANPRO, true));
    assert_eq!(flag(&consents, PARTNERS), &unset(PARTNERS, false));
    assert_eq!(log_entries(&app, "consent.read", subject, "allowed"), 1);
}

#[actix_web::test]
async fn granting_and_withdrawing_set_the_flag_and_keep_a_receipt() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let res = app
        .send(
            TestRequest::put()
                .uri(&format!("/v1/subjects/{subject}/consents/{PARTNERS}"))
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", token_for("clerk-7", &staff(), None)),
                ))
                .insert_header(("X-Request-Id", "req-grant-1"))
                .set_json(json!({"status": "granted", "method": "in_person",
                    "evidence": "  signed form 17  "})),
        )
        .await;
    res.assert_status(200);
    assert!(res.header("etag").is_some());
    let granted = res.json();
    assert_eq!(granted["confirmation_token"], Value::Null);
    assert_eq!(granted["state"], "given");
    assert_eq!(granted["given_at"], granted["updated_at"]);
    assert_eq!(granted["purpose"], PARTNERS);
    assert_eq!(granted["status"], "granted");
    assert_eq!(granted["eligible"], true);
    assert!(granted["updated_at"].is_string());

    let consents = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    assert_eq!(flag(&consents, PARTNERS), &granted);

    let events = app.db.consent_events(subject);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        json!({"status": e.status, "method": e.method, "evidence": e.evidence,
            "actor": e.actor, "request_id": e.request_id}),
        json!({"status": "granted", "method": "in_person", "evidence": "signed form 17",
            "actor": "clerk-7", "request_id": "req-grant-1"})
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'consent.change' AND subject_id = '{subject}' \
             AND actor = 'clerk-7' AND request_id = 'req-grant-1' AND outcome = 'allowed'"
        )),
        1
    );

    let withdrawn = set(&app, subject, PARTNERS, "withdrawn").await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["eligible"], false);
    let opted_out = set(&app, subject, PLANPRO, "withdrawn").await;
    assert_eq!(opted_out["eligible"], false);
    // Never granted before: a refusal (DPV ConsentRefused), still v1's `withdrawn`.
    assert_eq!(opted_out["state"], "refused");
    let back_in = set(&app, subject, PLANPRO, "granted").await;
    assert_eq!(back_in["eligible"], true);

    let consents = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    assert_eq!(flag(&consents, PARTNERS)["status"], "withdrawn");
    assert_eq!(flag(&consents, PLANPRO)["status"], "granted");
    assert_eq!(stored_rows(&app), (2, 4));
    assert_eq!(log_entries(&app, "consent.change", subject, "allowed"), 4);
    assert_eq!(log_entries(&app, "consent.read", subject, "allowed"), 2);
}

#[actix_web::test]
async fn unknown_subjects_and_purposes_are_404_and_change_nothing() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let nobody = Uuid::now_v7();
    let change = json!({"status": "granted", "method": "email"});
    put_consent(&app, nobody, PARTNERS, change.clone())
        .await
        .assert_problem(404, "not-found");
    put_consent(&app, subject, "no_such_purpose", change.clone())
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/subjects/{nobody}/consents"))
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/subjects/{nobody}/consents/history"))
        .await
        .assert_problem(404, "not-found");
    let res = put_consent(&app, Uuid::nil(), "x", change).await;
    res.assert_status(404);
    let res = app.get("/v1/subjects/not-a-uuid/consents").await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["id"]);
    assert_eq!(stored_rows(&app), (0, 0));
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'consent.change'"),
        0
    );
}

#[actix_web::test]
async fn bad_status_method_or_evidence_is_400_naming_them_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let cases = [
        (
            json!({"status": "maybe", "method": "pigeon"}),
            vec!["method", "status"],
        ),
        (
            json!({"status": "granted", "method": "fax"}),
            vec!["method"],
        ),
        (
            json!({"status": "unset", "method": "email"}),
            vec!["status"],
        ),
        (json!({"method": "email"}), vec!["status"]),
        (
            json!({"status": "granted", "method": "email", "evidence": "x".repeat(2001)}),
            vec!["evidence"],
        ),
        (
            json!({"status": "granted", "method": "email", "actor": "me"}),
            vec!["actor"],
        ),
    ];
    for (body, fields) in cases {
        let res = put_consent(&app, subject, PARTNERS, body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}");
    }
    assert_eq!(stored_rows(&app), (0, 0));
    assert_eq!(log_entries(&app, "consent.change", subject, "allowed"), 0);
    // Exactly the limit is fine.
    let res = put_consent(
        &app,
        subject,
        PARTNERS,
        json!({"status": "granted", "method": "email", "evidence": "x".repeat(2000)}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(stored_rows(&app), (1, 1));
}

#[actix_web::test]
async fn a_withdrawal_holds_for_the_very_next_eligibility_check() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    // Unset: an opt-out purpose allows, an opt-in purpose does not.
    assert_eq!(
        ids_of(&eligibility(&app, PLANPRO, &[subject]).await["eligible"]),
        [subject]
    );
    assert_eq!(
        ids_of(&eligibility(&app, PARTNERS, &[subject]).await["not_eligible"]),
        [subject]
    );

    set(&app, subject, PARTNERS, "granted").await;
    assert_eq!(
        ids_of(&eligibility(&app, PARTNERS, &[subject]).await["eligible"]),
        [subject]
    );
    set(&app, subject, PARTNERS, "withdrawn").await;
    let answer = eligibility(&app, PARTNERS, &[subject]).await;
    assert_eq!(ids_of(&answer["not_eligible"]), [subject]);
    assert!(ids_of(&answer["eligible"]).is_empty());

    set(&app, subject, PLANPRO, "withdrawn").await;
    let answer = eligibility(&app, PLANPRO, &[subject]).await;
    assert_eq!(ids_of(&answer["not_eligible"]), [subject]);
    assert!(ids_of(&answer["eligible"]).is_empty());
}

#[actix_web::test]
async fn eligibility_answers_each_id_once_and_names_the_unknown() {
    let app = TestApp::spawn().await;
    let unset = insert_subject(&app);
    let granted = insert_subject(&app);
    let withdrawn = insert_subject(&app);
    let nobody = Uuid::now_v7();
    set(&app, granted, PARTNERS, "granted").await;
    set(&app, withdrawn, PARTNERS, "withdrawn").await;
    let asked = [unset, granted, withdrawn, nobody, unset, nobody];

    let partners = eligibility(&app, PARTNERS, &asked).await;
    assert_eq!(partners["purpose"], PARTNERS);
    assert_eq!(ids_of(&partners["eligible"]), [granted]);
    assert_eq!(
        ids_of(&partners["not_eligible"]),
        sorted(vec![unset, withdrawn])
    );
    assert_eq!(ids_of(&partners["unknown"]), [nobody]);

    let planpro = eligibility(&app, PLANPRO, &asked).await;
    assert_eq!(
        ids_of(&planpro["eligible"]),
        sorted(vec![unset, granted, withdrawn])
    );
    assert!(ids_of(&planpro["not_eligible"]).is_empty());
    assert_eq!(ids_of(&planpro["unknown"]), [nobody]);

    let empty = eligibility(&app, PLANPRO, &[]).await;
    assert_eq!(
        empty,
        json!({"purpose": PLANPRO, "eligible": [], "not_eligible": [], "unknown": []})
    );

    // One entry per request, about no one subject, counting the distinct ids.
    let counts = app.db.scalar(
        "SELECT string_agg(count::text, ',' ORDER BY seq) FROM access_log \
         WHERE action = 'consent.eligibility' AND subject_id IS NULL AND outcome = 'allowed'",
    );
    assert_eq!(counts, "4,4,0");
}

#[actix_web::test]
async fn eligibility_refuses_bad_ids_and_unknown_purposes() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"purpose": PLANPRO, "subject_ids": [subject, "not-a-uuid", 7]}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["subject_ids[1]", "subject_ids[2]"]);
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"subject_ids": [subject], "extra": true}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["extra", "purpose"]);
    app.post(
        "/v1/consents/eligibility",
        json!({"purpose": "no_such_purpose", "subject_ids": [subject]}),
    )
    .await
    .assert_problem(404, "not-found");
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/consents/eligibility")
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", token_for("tester", &staff(), None)),
                ))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    res.assert_problem(415, "unsupported-media-type");
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'consent.eligibility'"),
        0
    );
}

#[actix_web::test]
async fn eligibility_takes_up_to_100000_ids() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    set(&app, subject, PLANPRO, "withdrawn").await;
    let mut ids: Vec<Uuid> = (0..99_999).map(|_| Uuid::now_v7()).collect();
    ids.push(subject);

    let answer = eligibility(&app, PLANPRO, &ids).await;
    assert_eq!(ids_of(&answer["not_eligible"]), [subject]);
    assert_eq!(answer["unknown"].as_array().unwrap().len(), 99_999);
    assert_eq!(answer["eligible"].as_array().unwrap().len(), 0);

    ids.push(Uuid::now_v7());
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"purpose": PLANPRO, "subject_ids": ids}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["subject_ids"]);
    assert_eq!(
        app.db.scalar(
            "SELECT string_agg(count::text, ',') FROM access_log WHERE action = 'consent.eligibility'"
        ),
        "100000"
    );
}

#[actix_web::test]
async fn history_lists_every_receipt_newest_first_in_pages() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let other = insert_subject(&app);
    let steps = [
        (PARTNERS, "granted", "web_form"),
        (PLANPRO, "withdrawn", "unsubscribe_link"),
        (PARTNERS, "withdrawn", "email"),
        (PLANPRO, "granted", "phone"),
        (PARTNERS, "granted", "letter"),
    ];
    for (n, (purpose, status, method)) in steps.iter().enumerate() {
        put_consent(
            &app,
            subject,
            purpose,
            json!({"status": status, "method": method, "evidence": format!("step {n}")}),
        )
        .await
        .assert_status(200);
    }
    set(&app, other, PARTNERS, "granted").await;

    let base = format!("/v1/subjects/{subject}/consents/history");
    let mut seen = Vec::new();
    let mut path = format!("{base}?limit=2");
    let mut pages = 0;
    loop {
        let res = app.get(&path).await;
        res.assert_status(200);
        let page = res.json();
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{base}?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let expected: Vec<_> = steps.iter().enumerate().rev().collect();
    for (event, (n, (purpose, status, method))) in seen.iter().zip(expected) {
        assert_eq!(event["purpose"], *purpose);
        assert_eq!(event["status"], *status);
        assert_eq!(event["method"], *method);
        assert_eq!(event["evidence"], format!("step {n}"));
        assert_eq!(event["actor"], "tester");
        assert!(event["request_id"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(event["at"].is_string());
    }
    let ids: Vec<Uuid> = seen
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {ids:?}"
    );
    let ats: Vec<&str> = seen.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "{ats:?}");

    let only = app.get(&format!("{base}?purpose={PLANPRO}")).await.json();
    let statuses: Vec<_> = only["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["granted", "withdrawn"]);
    assert_eq!(only["next_cursor"], Value::Null);

    let res = app.get(&format!("{base}?cursor=bogus&limit=0")).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["cursor", "limit"]);

    // Four successful reads of the history, one entry each; the refused query wrote none.
    assert_eq!(log_entries(&app, "consent.read", subject, "allowed"), 4);
}

#[actix_web::test]
async fn concurrent_changes_end_in_the_newest_event_and_keep_every_event() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    for round in 0..3 {
        let changes = (0..8).map(|n| {
            let status = if n % 2 == 0 { "granted" } else { "withdrawn" };
            put_consent(
                &app,
                subject,
                PARTNERS,
                json!({"status": status, "method": "api", "evidence": format!("{round}/{n}")}),
            )
        });
        for res in futures_util::future::join_all(changes).await {
            res.assert_status(200);
        }
        assert_eq!(
            app.db.count("SELECT 1 FROM consent_events"),
            8 * (round + 1)
        );
        let newest = app.db.consent_events(subject).into_iter().next().unwrap();
        assert_eq!(app.db.flag_evidence(subject, PARTNERS), newest.evidence);
        let agree = app.db.scalar(&format!(
            "SELECT (c.status, c.method, c.last_event_id, c.updated_at) \
                    IS NOT DISTINCT FROM (e.status, e.method, e.id, e.at) \
             FROM consents c, LATERAL (SELECT * FROM consent_events e WHERE e.subject_id = c.subject_id \
                  AND e.purpose_id = c.purpose_id ORDER BY e.id DESC LIMIT 1) e \
             WHERE c.subject_id = '{subject}' AND c.purpose_id = '{PARTNERS}'"
        ));
        assert_eq!(
            agree, "true",
            "round {round}: the flag is not its newest event"
        );
        // The newest event by id is also the newest by time.
        assert_eq!(
            app.db.scalar(
                "SELECT (SELECT id FROM consent_events ORDER BY id DESC LIMIT 1) = \
                        (SELECT id FROM consent_events ORDER BY at DESC, id DESC LIMIT 1)"
            ),
            "true"
        );
    }
    assert_eq!(stored_rows(&app), (1, 24));
    assert_eq!(log_entries(&app, "consent.change", subject, "allowed"), 24);
    let consents = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    let newest = app
        .db
        .scalar("SELECT status FROM consent_events ORDER BY id DESC LIMIT 1");
    assert_eq!(flag(&consents, PARTNERS)["status"], newest);
}

#[actix_web::test]
async fn without_the_scope_it_is_403_and_a_denied_entry() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let readers = [Scope::SubjectsRead, Scope::ConsentsRead];
    app.call(
        Method::GET,
        &format!("/v1/subjects/{subject}/consents"),
        &[Scope::SubjectsRead],
        None,
    )
    .await
    .assert_problem(403, "insufficient-scope");
    app.call(
        Method::GET,
        &format!("/v1/subjects/{subject}/consents/history"),
        &[Scope::ConsentsWrite],
        None,
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(log_entries(&app, "consent.read", subject, "denied"), 2);

    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/{PARTNERS}"),
        &readers,
        Some(json!({"status": "granted", "method": "api"})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(log_entries(&app, "consent.change", subject, "denied"), 1);
    assert_eq!(stored_rows(&app), (0, 0));

    app.call(
        Method::POST,
        "/v1/consents/eligibility",
        &[Scope::ConsentsWrite],
        Some(json!({"purpose": PLANPRO, "subject_ids": [subject]})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'consent.eligibility' \
             AND subject_id IS NULL AND outcome = 'denied'"
        ),
        1
    );
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE outcome = 'allowed'"),
        0
    );
}

#[actix_web::test]
async fn other_methods_are_405_problems() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    app.call(
        Method::GET,
        &format!("/v1/subjects/{subject}/consents/{PLANPRO}"),
        &staff(),
        None,
    )
    .await
    .assert_problem(405, "method-not-allowed");
    app.call(Method::DELETE, "/v1/purposes", &staff(), None)
        .await
        .assert_problem(405, "method-not-allowed");
    app.call(Method::GET, "/v1/consents/eligibility", &staff(), None)
        .await
        .assert_problem(405, "method-not-allowed");
}

#[actix_web::test]
async fn a_purpose_named_history_still_has_a_settable_flag() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    app.post(
        "/v1/purposes",
        json!({"id": "history", "basis": "opt_in", "description": {"et": "a", "en": "b"}}),
    )
    .await
    .assert_status(201);
    let flag = set(&app, subject, "history", "granted").await;
    assert_eq!(flag["eligible"], true);
    let page = app
        .get(&format!("/v1/subjects/{subject}/consents/history"))
        .await
        .json();
    assert_eq!(page["items"][0]["purpose"], "history");
}

#[actix_web::test]
async fn the_export_holds_every_flag_and_the_whole_history_newest_first() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    set(&app, subject, PARTNERS, "granted").await;
    set(&app, subject, PARTNERS, "withdrawn").await;
    let mut conn = app.db.conn();
    let (consents, history) =
        planpro_privacy::consents::export_for(&mut conn, subject.into()).unwrap();
    let served = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    assert_eq!(consents, served);
    let statuses: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["withdrawn", "granted"]);
    assert_eq!(history[0]["purpose"], PARTNERS);
    assert_eq!(history[0]["method"], "web_form");
}
