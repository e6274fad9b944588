//! The breach register (Art. 33-34): the 72-hour clock across a DST change, scoping from the
//! disclosure ledger and the access log (ids kept after erasure), assessment, notification with
//! the delay rule, closing, the CSV register and the metrics.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};

async fn with_if_match(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Value,
    tag: Option<&str>,
) -> Resp {
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .set_json(body);
    if let Some(tag) = tag {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn the_deadline_is_72_clock_hours_across_the_change_to_summer_time() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/breaches",
            json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["confidentiality"],
                   "description": "an export was mailed to a wrong address",
                   "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
                   "actor": "mari.tamm@planpro.ee", "data_categories": ["identity"]}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let b = res.json();
    assert_eq!(b["notify_authority_by"], "2026-03-31T22:30:00Z");
    assert_eq!(b["status"], "open");
    assert!(b["affected_count"].is_null() && b["assessment"].is_null());
    assert_eq!(b["description"], "an export was mailed to a wrong address");
    // Sealed at rest: the clear text is nowhere in the row.
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM breaches WHERE position('wrong address'::bytea in description_enc) > 0"
        ),
        0
    );
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'breach.create' AND subject_id IS NULL"
        ),
        1
    );
    let read = app.get(&format!("/v1/breaches/{}", id(&b))).await;
    read.assert_status(200);
    assert_eq!(read.json()["description"], b["description"]);
    // Overdue, unnotified, unassessed: counted.
    let metrics =
        String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap();
    assert!(metrics.lines().any(|l| l == "breaches_open 1"), "{metrics}");
    assert!(
        metrics.lines().any(|l| l == "breach_authority_overdue 1"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn bad_breaches_and_notifications_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let res = app
        .post(
            "/v1/breaches",
            json!({"aware_at": future, "nature": [], "description": "x\u{200B}",
                   "window": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
                   "data_categories": []}),
        )
        .await;
    res.assert_status(400);
    assert_eq!(
        res.bad_fields(),
        [
            "aware_at",
            "data_categories",
            "description",
            "nature",
            "window.to"
        ]
    );
    assert_eq!(app.db.count("SELECT 1 FROM breaches"), 0);
    let b = app
        .post(
            "/v1/breaches",
            json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["availability"],
                   "description": "the backup failed",
                   "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
                   "data_categories": ["contact"]}),
        )
        .await
        .json();
    let path = format!("/v1/breaches/{}", id(&b));
    app.post(&format!("{path}/scope"), json!({}))
        .await
        .assert_problem(422, "scope-undefined");
    let notify = format!("{path}/authority-notification");
    let res = app
        .post(
            &notify,
            json!({"notified_at": "2026-03-20T00:00:00Z", "reference": "AKI 1"}),
        )
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["notified_at"]);
    let res = app
        .post(
            &notify,
            json!({"notified_at": "2026-04-02T00:00:00Z", "reference": "AKI 1"}),
        )
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["delay_reasons"]);
    let res = app
        .post(
            &notify,
            json!({"notified_at": future, "reference": "AKI 1"}),
        )
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["notified_at"]);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM breaches WHERE authority_notified_at IS NOT NULL OR version > 1"),
        0
    );
    let res = app
        .post(
            &notify,
            json!({"notified_at": "2026-04-02T00:00:00Z", "reference": "AKI 1",
                   "delay_reasons": "the scale was only known on 1 April"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["authority_notification"]["reference"], "AKI 1");
    app.post(
        &notify,
        json!({"notified_at": "2026-03-30T00:00:00Z", "reference": "AKI 2"}),
    )
    .await
    .assert_problem(409, "already-notified");

    // Closing needs an assessment; changes need If-Match.
    with_if_match(&app, "PATCH", &path, json!({"status": "closed"}), None)
        .await
        .assert_problem(428, "precondition-required");
    with_if_match(
        &app,
        "PATCH",
        &path,
        json!({"status": "closed"}),
        Some("\"2\""),
    )
    .await
    .assert_problem(409, "assessment-missing");
    with_if_match(
        &app,
        "PUT",
        &format!("{path}/assessment"),
        json!({"risk": "none", "reasoning": "encrypted backup"}),
        Some("\"1\""),
    )
    .await
    .assert_problem(412, "precondition-failed");
    let res = with_if_match(
        &app,
        "PUT",
        &format!("{path}/assessment"),
        json!({"risk": "none", "reasoning": "encrypted backup"}),
        Some("\"2\""),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["assessment"]["risk"], "none");
    let res = with_if_match(
        &app,
        "PATCH",
        &path,
        json!({"status": "closed"}),
        Some("\"3\""),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["status"], "closed");
    let res = app
        .post(&format!("{path}/subject-communication"),
              json!({"communicated_at": "2026-04-03T00:00:00Z", "method": "none", "exemption": "34(3)(a)"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["subject_communication"]["exemption"], "34(3)(a)");
    let csv = app.get("/v1/breaches?format=csv").await;
    csv.assert_status(200);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("AKI 1") && text.contains("34(3)(a)") && !text.contains("backup failed"));
    assert_eq!(
        app.get("/v1/breaches?status=open").await.json()["items"],
        json!([])
    );
    app.call(
        actix_web::http::Method::GET,
        "/v1/breaches",
        &[Scope::SubjectsRead],
        None,
    )
    .await
    .assert_status(403);
}

#[actix_web::test]
async fn scoping_finds_disclosed_and_read_persons_and_erasure_keeps_their_ids() {
    let app = TestApp::spawn().await;
    let subject = |name: &'static str| {
        let app = &app;
        async move {
            let res = app
                .post(
                    "/v1/subjects",
                    json!({"kind": "client", "given_name": name,
                      "family_name": "Tamm", "source": {"type": "data_subject"}}),
                )
                .await;
            res.assert_status(201);
            id(&res.json())
        }
    };
    let disclosed = subject("Mari").await;
    let other_category = subject("Jaan").await;
    let read_by_actor = subject("Kati").await;
    let untouched = subject("Peeter").await;
    let recipient = id(&app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
              "contact_email": "privacy@partner.ee"}),
        )
        .await
        .json());
    for (s, categories) in [
        (&disclosed, json!(["identity", "contact"])),
        (&other_category, json!(["address"])),
    ] {
        app.post(
            &format!("/v1/subjects/{s}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": "form",
                        "data_categories": categories, "purpose": "offers"}),
        )
        .await
        .assert_status(201);
        app.post(
            &format!("/v1/subjects/{s}/disclosures"),
            json!({"recipient_id": recipient, "data_categories": categories, "channel": "email"}),
        )
        .await
        .assert_status(201);
    }
    let suspect = "kalle.kask@planpro.ee";
    let token = token_for(suspect, &staff(), None);
    app.send(
        TestRequest::get()
            .uri(&format!("/v1/subjects/{read_by_actor}"))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
    .assert_status(200);
    let _ = untouched;
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let b = app
        .post(
            "/v1/breaches",
            json!({"aware_at": chrono::Utc::now().to_rfc3339(), "nature": ["confidentiality"],
              "description": "the partner's mailbox was compromised",
              "window": {"from": from, "to": to}, "recipient_id": recipient, "actor": suspect,
              "data_categories": ["contact"]}),
        )
        .await
        .json();
    let path = format!("/v1/breaches/{}", id(&b));
    let res = app.post(&format!("{path}/scope"), json!({})).await;
    res.assert_status(200);
    assert_eq!(res.json()["affected_count"], 2, "{}", res.json());
    let res = app
        .post(
            &format!("{path}/scope"),
            json!({"sources": ["disclosures"]}),
        )
        .await;
    assert_eq!(res.json()["affected_count"], 1);
    app.post(
        &format!("{path}/scope"),
        json!({"sources": ["disclosures", "access_log"]}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'breach.scope' AND count IS NOT NULL"),
        3
    );
    app.post(
        &format!("/v1/subjects/{disclosed}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    let page = app.get(&format!("{path}/subjects")).await.json();
    let mut found: Vec<(String, String, bool)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["subject_id"].as_str().unwrap().to_owned(),
                a["via"].as_str().unwrap().to_owned(),
                a["erased"].as_bool().unwrap(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (disclosed.clone(), "disclosures".to_owned(), true),
        (read_by_actor.clone(), "access_log".to_owned(), false),
    ];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(app.get(&path).await.json()["affected_count"], 2);
}

#[actix_web::test]
async fn breach_changes_take_an_idempotency_key_and_refuse_an_empty_one() {
    let app = TestApp::spawn().await;
    let body = json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["availability"],
                      "description": "the backup failed", "actor": "mari.tamm@planpro.ee",
                      "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
                      "data_categories": ["contact"]});
    let post = |path: &str, key: &str, body: Value| {
        TestRequest::post()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", key.to_owned()))
            .set_json(body)
    };
    let res = app.send(post("/v1/breaches", "", body.clone())).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["Idempotency-Key"]);
    assert_eq!(app.db.count("SELECT 1 FROM breaches"), 0);
    let first = app.send(post("/v1/breaches", "b-1", body.clone())).await;
    first.assert_status(201);
    let again = app.send(post("/v1/breaches", "b-1", body.clone())).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(app.db.count("SELECT 1 FROM breaches"), 1);
    let scope = format!("/v1/breaches/{}/scope", id(&first.json()));
    let res = app.send(post(&scope, "", json!({}))).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["Idempotency-Key"]);
    let scoped = app.send(post(&scope, "s-1", json!({}))).await;
    scoped.assert_status(200);
    assert_eq!(
        scoped.json()["sources"],
        json!(["disclosures", "access_log"])
    );
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'breach.scope'"),
        1
    );
}
