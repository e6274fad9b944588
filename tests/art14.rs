//! Art. 14 information: the status of persons whose data came from elsewhere (due dates by the
//! contract's rule, brought forward by the first disclosure), notices, exemptions, the due list,
//! the gauge, `ART14_ENFORCEMENT=block` and the status of subjects recorded before the service
//! kept one.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn today() -> String {
    planpro_privacy::domain::deadline::tallinn_date(Utc::now()).to_string()
}

async fn subject(app: &TestApp, source: Value) -> Value {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "contact", "given_name": "Mari", "family_name": "Maasikas",
                   "source": source}),
        )
        .await;
    res.assert_status(201);
    res.json()
}

fn from_partner(collected_at: &str) -> Value {
    json!({"type": "third_party", "name": "Partner OÜ", "reference": "contract 2026-17",
           "collected_at": collected_at,
           "lawful_collection_attestation": "signed statement 2026-17-A"})
}

async fn recipient(app: &TestApp) -> String {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "dpo@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    id(&res.json())
}

async fn grant(app: &TestApp, subject: &str, recipient: &str) {
    app.post(
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent",
               "consent_evidence": "signed form 2026-11-20", "data_categories": ["identity"],
               "purpose": "offers for the detailed plan"}),
    )
    .await
    .assert_status(201);
}

async fn disclose(app: &TestApp, subject: &str, recipient: &str) -> Resp {
    app.post(
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email",
               "note": "sent on request"}),
    )
    .await
}

async fn partner_read(app: &TestApp, subject: &str, recipient: &str) -> Resp {
    let token = token_for(
        &format!("partner-{recipient}"),
        &[Scope::Partner],
        Some(recipient.parse().unwrap()),
    );
    app.send(
        TestRequest::get()
            .uri(&format!("/v1/partner/subjects/{subject}"))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

async fn notice(app: &TestApp, subject: &str, body: Value) -> Resp {
    app.post(&format!("/v1/subjects/{subject}/information-notices"), body)
        .await
}

async fn exempt(app: &TestApp, subject: &str, body: Value) -> Resp {
    app.post(&format!("/v1/subjects/{subject}/art14-exemption"), body)
        .await
}

fn entries(app: &TestApp, action: &str, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}' AND outcome = '{outcome}'"
    ))
}

fn a_notice() -> Value {
    json!({"informed_at": "2026-12-01T10:00:00Z", "method": "letter",
           "notice_version": "privacy notice 2026-11"})
}

#[actix_web::test]
async fn the_due_date_follows_the_contracts_rule_on_every_view_of_the_record() {
    let app = TestApp::spawn().await;
    // 20 August 2026 is a public holiday: the 21st.
    let collected = subject(&app, from_partner("2026-07-20T09:00:00Z")).await;
    assert_eq!(collected["art14"]["due_on"], "2026-08-21");
    assert_eq!(collected["art14"]["status"], "overdue");
    assert!(
        collected["art14"]["informed_at"].is_null() && collected["art14"]["exemption"].is_null()
    );
    // Without a collection time the month counts from the record's creation (today).
    let fresh = subject(
        &app,
        json!({"type": "public_registry", "name": "Äriregister"}),
    )
    .await;
    assert_eq!(fresh["art14"]["status"], "due");
    assert!(fresh["art14"]["due_on"].as_str().unwrap() > today().as_str());
    let own = subject(&app, json!({"type": "data_subject"})).await;
    assert!(own["art14"].is_null());

    let read = app.get(&format!("/v1/subjects/{}", id(&collected))).await;
    read.assert_status(200);
    assert_eq!(read.json()["art14"]["due_on"], "2026-08-21");
    assert!(app.get(&format!("/v1/subjects/{}", id(&own))).await.json()["art14"].is_null());
    let list = app.get("/v1/subjects?limit=10").await.json();
    let due: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["art14"]["due_on"])
        .collect();
    assert_eq!(due.len(), 3);
    assert_eq!(*due[0], "2026-08-21");
    assert!(due[2].is_null());

    // The first disclosure brings the date forward to its own (Tallinn) date.
    let partner = recipient(&app).await;
    grant(&app, &id(&fresh), &partner).await;
    disclose(&app, &id(&fresh), &partner)
        .await
        .assert_status(201);
    let read = app
        .get(&format!("/v1/subjects/{}", id(&fresh)))
        .await
        .json();
    assert_eq!(read["art14"]["due_on"], today());
    assert_eq!(read["art14"]["status"], "due");

    // A rectified collection time moves the month.
    let tag = app
        .get(&format!("/v1/subjects/{}", id(&collected)))
        .await
        .header("etag")
        .unwrap();
    let req = TestRequest::patch()
        .uri(&format!("/v1/subjects/{}", id(&collected)))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .insert_header(("If-Match", tag))
        .set_json(json!({"source": {"collected_at": "2026-01-31T10:00:00Z"},
                         "reason": "the partner corrected its collection date"}));
    let res = app.send(req).await;
    res.assert_status(200);
    assert_eq!(res.json()["art14"]["due_on"], "2026-03-02");
}

#[actix_web::test]
async fn a_notice_informs_the_person_and_the_export_shows_it() {
    let app = TestApp::spawn().await;
    let s = id(&subject(&app, from_partner("2026-11-24T09:00:00Z")).await);
    let res = notice(&app, &s, a_notice()).await;
    res.assert_status(201);
    let n = res.json();
    assert_eq!(n["method"], "letter");
    assert_eq!(n["subject_id"], s.as_str());
    assert_eq!(entries(&app, "art14.update", "allowed"), 1);

    let record = app.get(&format!("/v1/subjects/{s}")).await.json();
    assert_eq!(record["art14"]["status"], "informed");
    assert_eq!(record["art14"]["informed_at"], "2026-12-01T10:00:00Z");
    assert_eq!(record["art14"]["notice_version"], "privacy notice 2026-11");
    // An older notice recorded later is kept but does not replace the newer one.
    notice(
        &app,
        &s,
        json!({"informed_at": "2026-11-25T10:00:00Z", "method": "email",
               "notice_version": "privacy notice 2026-10"}),
    )
    .await
    .assert_status(201);
    let export = app.get(&format!("/v1/subjects/{s}/export")).await;
    export.assert_status(200);
    let export = export.json();
    assert_eq!(export["art14"]["method"], "letter");
    assert_eq!(export["subject"]["art14"], export["art14"]);
    let notices = export["information_notices"].as_array().unwrap();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[1]["method"], "email");
    // Informed persons are owed nothing: not on the due list.
    let due = app.get("/v1/information-notices/due").await.json();
    assert_eq!(due["items"], json!([]));
}

#[actix_web::test]
async fn exemptions_are_recorded_once() {
    let app = TestApp::spawn().await;
    let s = id(&subject(&app, from_partner("2026-11-24T09:00:00Z")).await);
    let res = exempt(
        &app,
        &s,
        json!({"ground": "14(5)(b)", "reference": "effort assessment 2026-4"}),
    )
    .await;
    res.assert_status(200);
    let status = res.json();
    assert_eq!(status["status"], "exempt");
    assert_eq!(status["exemption"]["ground"], "14(5)(b)");
    assert_eq!(status["due_on"], "2026-12-28");
    let again = exempt(
        &app,
        &s,
        json!({"ground": "14(5)(a)", "reference": "again"}),
    )
    .await;
    again.assert_problem(409, "already-exempt");
    assert_eq!(entries(&app, "art14.update", "allowed"), 1);
    let record = app.get(&format!("/v1/subjects/{s}")).await.json();
    assert_eq!(
        record["art14"]["exemption"]["reference"],
        "effort assessment 2026-4"
    );
}

#[actix_web::test]
async fn bad_notices_and_exemptions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let s = id(&subject(&app, from_partner("2026-11-24T09:00:00Z")).await);
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let res = notice(
        &app,
        &s,
        json!({"informed_at": future, "method": "letter", "notice_version": "v1\u{202E}"}),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["informed_at", "notice_version"]);
    // An unknown enumeration value stops the body's reading: named alone.
    let res = notice(
        &app,
        &s,
        json!({"informed_at": "2026-12-01T10:00:00Z", "method": "pigeon", "notice_version": "v1"}),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["method"]);
    let res = notice(
        &app,
        &s,
        json!({"informed_at": "2026-12-01T10:00:00Z", "method": "letter", "notice_version": "v1\u{200B}"}),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["notice_version"]);
    let res = exempt(&app, &s, json!({"ground": "14(5)(e)", "reference": "x"})).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["ground"]);
    let res = exempt(
        &app,
        &s,
        json!({"ground": "14(5)(b)", "reference": "\u{2066}x"}),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["reference"]);

    // The data came from the person: Art. 14 does not apply.
    let own = id(&subject(&app, json!({"type": "data_subject"})).await);
    notice(&app, &own, a_notice())
        .await
        .assert_problem(409, "art14-not-applicable");
    exempt(&app, &own, json!({"ground": "14(5)(a)", "reference": "x"}))
        .await
        .assert_problem(409, "art14-not-applicable");
    let unknown = uuid::Uuid::now_v7();
    notice(&app, &unknown.to_string(), a_notice())
        .await
        .assert_status(404);
    exempt(
        &app,
        &unknown.to_string(),
        json!({"ground": "14(5)(a)", "reference": "x"}),
    )
    .await
    .assert_status(404);
    app.post(
        &format!("/v1/subjects/{s}/erasure"),
        json!({"reason": "asked for by the person"}),
    )
    .await
    .assert_status(200);
    notice(&app, &s, a_notice()).await.assert_status(410);
    exempt(&app, &s, json!({"ground": "14(5)(a)", "reference": "x"}))
        .await
        .assert_status(410);

    assert_eq!(app.db.count("SELECT 1 FROM information_notices"), 0);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM art14_status WHERE informed_at IS NOT NULL OR exemption IS NOT NULL"
        ),
        0
    );
    assert_eq!(entries(&app, "art14.update", "allowed"), 0);
    // A bad day for the due list is named.
    let res = app
        .get("/v1/information-notices/due?overdue_on=2026-13-01")
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["overdue_on"]);
}

#[actix_web::test]
async fn the_due_list_and_the_gauge_count_those_past_their_date() {
    let app = TestApp::spawn().await;
    let late = id(&subject(&app, from_partner("2026-07-20T09:00:00Z")).await);
    let fresh = id(&subject(&app, json!({"type": "public_registry"})).await);
    subject(&app, json!({"type": "data_subject"})).await;

    let res = app.get("/v1/information-notices/due").await;
    res.assert_status(200);
    let page = res.json();
    assert_eq!(
        page["items"],
        json!([{"subject_id": late, "due_on": "2026-08-21", "source_type": "third_party"}])
    );
    assert_eq!(
        app.db.count("SELECT 1 FROM access_log WHERE action = 'art14.read' AND count = 1 AND subject_id IS NULL"),
        1
    );
    // Before 21 August nobody was due yet; on the 22nd the late one was.
    let on = |day: &str| format!("/v1/information-notices/due?overdue_on={day}");
    assert_eq!(app.get(&on("2026-08-21")).await.json()["items"], json!([]));
    assert_eq!(
        app.get(&on("2026-08-22")).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Far ahead both are due, the fresh one by its creation's month.
    let ahead = app.get(&on("2099-01-01")).await.json();
    let ids: Vec<&str> = ahead["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject_id"].as_str().unwrap())
        .collect();
    let mut expected = vec![late.as_str(), fresh.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    // Paged one by one.
    let first = app
        .get(&format!("{}&limit=1", on("2099-01-01")))
        .await
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{}&limit=1&cursor={cursor}", on("2099-01-01")))
        .await
        .json();
    assert_eq!(second["items"][0]["subject_id"], expected[1]);

    let metrics =
        String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap();
    assert!(metrics.lines().any(|l| l == "art14_overdue 1"), "{metrics}");
    // The list needs subjects:read.
    app.call(
        actix_web::http::Method::GET,
        "/v1/information-notices/due",
        &[Scope::SubjectsWrite],
        None,
    )
    .await
    .assert_missing_scope("subjects:read");
}

async fn blocking_app() -> TestApp {
    use planpro_privacy::config::{JwtKey, Secret};
    let db = crate::harness::TestDb::new();
    let mut config = crate::harness::test_config(&db.url);
    config.registers.art14_block = true;
    TestApp::on(
        db,
        &config,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .await
}

#[actix_web::test]
async fn blocking_refuses_disclosures_of_persons_not_yet_told_after_the_authorization_check() {
    let app = blocking_app().await;
    let s = id(&subject(&app, from_partner("2026-11-24T09:00:00Z")).await);
    let partner = recipient(&app).await;
    // Not authorized: the partner learns nothing more than the usual 403.
    partner_read(&app, &s, &partner)
        .await
        .assert_problem(403, "disclosure-not-authorized");
    disclose(&app, &s, &partner)
        .await
        .assert_problem(403, "disclosure-not-authorized");
    grant(&app, &s, &partner).await;
    disclose(&app, &s, &partner)
        .await
        .assert_problem(409, "subject-not-informed");
    partner_read(&app, &s, &partner)
        .await
        .assert_problem(409, "subject-not-informed");
    assert_eq!(entries(&app, "disclosure.record", "denied"), 2);
    assert_eq!(entries(&app, "partner.read", "denied"), 2);
    assert_eq!(app.db.count("SELECT 1 FROM disclosures"), 0);
    // Nothing disclosed: the due date is still the month's.
    let record = app.get(&format!("/v1/subjects/{s}")).await.json();
    assert_eq!(record["art14"]["due_on"], "2026-12-28");

    // Persons who gave the data themselves, and informed ones, are disclosed as before.
    let own = id(&subject(&app, json!({"type": "data_subject"})).await);
    grant(&app, &own, &partner).await;
    partner_read(&app, &own, &partner).await.assert_status(200);
    notice(&app, &s, a_notice()).await.assert_status(201);
    disclose(&app, &s, &partner).await.assert_status(201);
    partner_read(&app, &s, &partner).await.assert_status(200);
    assert_eq!(app.db.count("SELECT 1 FROM disclosures"), 3);
}

#[actix_web::test]
async fn subjects_recorded_before_the_service_kept_a_status_get_one() {
    let app = TestApp::spawn().await;
    let s = id(&subject(&app, json!({"type": "public_registry"})).await);
    // As a subject recorded between the registers migration and this service: no status row.
    app.db.exec("DELETE FROM art14_status");
    // Read from its creation even so.
    let record = app.get(&format!("/v1/subjects/{s}")).await.json();
    assert_eq!(record["art14"]["status"], "due");
    // The backfill migration gives it its row, counted from the creation's Tallinn date, and
    // leaves persons who gave their data themselves without one.
    subject(&app, json!({"type": "data_subject"})).await;
    let backfill = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/2026-12-07-360000_art14_backfill/up.sql"
    ))
    .unwrap();
    app.db.exec(&backfill);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM art14_status a JOIN subjects s ON s.id = a.subject_id \
             WHERE a.subject_id = '{s}' \
               AND a.counts_from = (s.created_at AT TIME ZONE 'Europe/Tallinn')::date"
        )),
        1
    );
    assert_eq!(app.db.count("SELECT 1 FROM art14_status"), 1);
    // Run again, it adds nothing.
    app.db.exec(&backfill);
    assert_eq!(app.db.count("SELECT 1 FROM art14_status"), 1);
}
