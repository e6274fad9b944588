//! Consent states computed when read (contract v3, C): a grant with a validity expires on every
//! deciding path at the same instant, moved only through the stored timestamps; the consent
//! export (page, NDJSON, CSV) and the list of grants about to expire.

use crate::consent_versions::{add_version, flag_of, insert_subject, put, version, PARTNERS};
use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

/// Gives the opt-in purpose a version with a validity of `months`.
pub async fn with_validity(app: &TestApp, months: i32) {
    add_version(
        app,
        PARTNERS,
        Some("\"1\""),
        version(false, json!({"validity_months": months})),
    )
    .await
    .assert_status(201);
}

pub async fn grant(app: &TestApp, subject: Uuid) -> Value {
    let res = put(
        app,
        subject,
        PARTNERS,
        json!({"status": "granted", "method": "web_form"}),
    )
    .await;
    res.assert_status(200);
    res.json()
}

/// GET with every staff scope and an `Accept` header.
pub async fn get_as(app: &TestApp, path: &str, accept: &str) -> Resp {
    app.send(
        TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Accept", accept)),
    )
    .await
}

async fn eligible(app: &TestApp, subject: Uuid) -> bool {
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"purpose": PARTNERS, "subject_ids": [subject]}),
        )
        .await;
    res.assert_status(200);
    res.json()["eligible"]
        .as_array()
        .unwrap()
        .contains(&json!(subject))
}

async fn exported(app: &TestApp, subject: Uuid) -> Value {
    let res = app
        .get(&format!("/v1/consents?purpose={PARTNERS}&limit=1000"))
        .await;
    res.assert_status(200);
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject_id"] == json!(subject))
        .cloned()
        .unwrap_or(Value::Null)
}

async fn expiring_ids(app: &TestApp, within: u32) -> Vec<Value> {
    let res = app
        .get(&format!(
            "/v1/consents/expiring?purpose={PARTNERS}&within_days={within}"
        ))
        .await;
    res.assert_status(200);
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject_id"].clone())
        .collect()
}

async fn subject_export_state(app: &TestApp, subject: Uuid) -> Value {
    let res = app.get(&format!("/v1/subjects/{subject}/export")).await;
    res.assert_status(200);
    res.json()["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == PARTNERS)
        .map(|c| c["state"].clone())
        .unwrap_or(Value::Null)
}

/// Moves the grant's stored times back so that it expired a second ago; nothing else changes.
fn age_grant(app: &TestApp, subject: Uuid) {
    app.db.exec(&format!(
        "UPDATE consents SET given_at = given_at - (expires_at - now()) - interval '1 second', \
           updated_at = updated_at - (expires_at - now()) - interval '1 second', \
           expires_at = now() - interval '1 second' \
         WHERE subject_id = '{subject}' AND purpose_id = '{PARTNERS}'"
    ));
}

/// A recipient and an authorization of `subject` to it that follows the opt-in purpose's flag.
pub async fn follower(app: &TestApp, subject: Uuid) -> (Uuid, Uuid) {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "dpo@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    let recipient: Uuid = res.json()["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "consent_evidence": "web form", "data_categories": ["identity"],
                   "purpose": "partner offers", "consent_purpose": PARTNERS}),
        )
        .await;
    res.assert_status(201);
    (
        recipient,
        res.json()["id"].as_str().unwrap().parse().unwrap(),
    )
}

/// The partner's read of the subject: its status.
async fn partner_read(app: &TestApp, recipient: Uuid, subject: Uuid) -> u16 {
    let token = token_for("partner", &[Scope::Partner], Some(recipient));
    app.send(
        TestRequest::get()
            .uri(&format!("/v1/partner/subjects/{subject}"))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
    .status
    .as_u16()
}

/// The authorization as the subject's list shows it: (active, inactive_reason).
async fn authorization_state(app: &TestApp, subject: Uuid) -> (Value, Value) {
    let res = app
        .get(&format!("/v1/subjects/{subject}/disclosure-authorizations"))
        .await;
    res.assert_status(200);
    let item = res.json()["items"][0].clone();
    (item["active"].clone(), item["inactive_reason"].clone())
}

#[actix_web::test]
async fn an_expired_grant_is_refused_on_every_path_at_once() {
    let app = TestApp::spawn().await;
    with_validity(&app, 1).await;
    let subject = insert_subject(&app);
    let flag = grant(&app, subject).await;
    assert_eq!(flag["state"], "given");
    assert!(flag["expires_at"].is_string(), "{flag}");
    let (recipient, _) = follower(&app, subject).await;
    let events = app.db.count("SELECT 1 FROM consent_events");

    // In force: every path says so.
    assert_eq!(flag_of(&app, subject, PARTNERS).await["eligible"], true);
    assert!(eligible(&app, subject).await);
    let row = exported(&app, subject).await;
    assert_eq!(
        (&row["state"], &row["eligible"]),
        (&json!("given"), &json!(true))
    );
    assert_eq!(expiring_ids(&app, 31).await, [json!(subject)]);
    assert_eq!(subject_export_state(&app, subject).await, "given");
    assert_eq!(partner_read(&app, recipient, subject).await, 200);
    assert_eq!(
        authorization_state(&app, subject).await,
        (json!(true), Value::Null)
    );

    age_grant(&app, subject);

    let flag = flag_of(&app, subject, PARTNERS).await;
    assert_eq!(
        (&flag["state"], &flag["status"], &flag["eligible"]),
        (&json!("expired"), &json!("granted"), &json!(false))
    );
    assert!(!eligible(&app, subject).await);
    let row = exported(&app, subject).await;
    assert_eq!(
        (&row["state"], &row["eligible"]),
        (&json!("expired"), &json!(false))
    );
    assert!(expiring_ids(&app, 366).await.is_empty());
    assert_eq!(subject_export_state(&app, subject).await, "expired");
    assert_eq!(partner_read(&app, recipient, subject).await, 403);
    assert_eq!(
        authorization_state(&app, subject).await,
        (json!(false), json!("consent_expired"))
    );
    // No job ran and no event was appended: expiry is read, not written.
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), events);
    assert_eq!(
        app.db.count("SELECT 1 FROM notices"),
        0,
        "expiry queues no notice"
    );
}

#[actix_web::test]
async fn a_renewal_is_renewed_with_its_own_expiry_and_an_expired_grant_starts_afresh() {
    let app = TestApp::spawn().await;
    with_validity(&app, 6).await;
    let subject = insert_subject(&app);
    let first = grant(&app, subject).await;
    app.db.exec(&format!(
        "UPDATE consents SET given_at = given_at - interval '30 days', \
           expires_at = expires_at - interval '30 days' WHERE subject_id = '{subject}'"
    ));
    let renewed = grant(&app, subject).await;
    assert_eq!(renewed["state"], "renewed");
    assert_eq!(renewed["status"], "granted");
    assert_eq!(
        renewed["expires_at"], first["expires_at"],
        "six months from its own time"
    );
    age_grant(&app, subject);
    let again = grant(&app, subject).await;
    assert_eq!(again["state"], "given", "an expired grant is not renewed");
}

#[actix_web::test]
async fn the_export_lists_every_stored_flag_paged_ndjson_and_csv_without_erased_subjects() {
    let app = TestApp::spawn().await;
    let subjects: Vec<Uuid> = (0..3).map(|_| insert_subject(&app)).collect();
    for s in &subjects {
        grant(&app, *s).await;
    }
    put(
        &app,
        subjects[1],
        "marketing_planpro",
        json!({"status": "withdrawn", "method": "unsubscribe_link"}),
    )
    .await
    .assert_status(200);
    let erased = insert_subject(&app);
    grant(&app, erased).await;
    app.post(
        &format!("/v1/subjects/{erased}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);

    let first = app.get("/v1/consents?limit=2").await;
    first.assert_status(200);
    let page = first.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(&format!("/v1/consents?limit=10&cursor={cursor}"))
        .await;
    rest.assert_status(200);
    let mut all: Vec<Value> = page["items"].as_array().unwrap().clone();
    all.extend(rest.json()["items"].as_array().unwrap().iter().cloned());
    assert_eq!(all.len(), 4, "three grants and one refusal: {all:?}");
    assert!(all.iter().all(|f| f["subject_id"] != json!(erased)));
    let refusal = all
        .iter()
        .find(|f| f["purpose"] == "marketing_planpro")
        .unwrap();
    assert_eq!(
        (&refusal["status"], &refusal["state"], &refusal["eligible"]),
        (&json!("withdrawn"), &json!("refused"), &json!(false))
    );

    let refused = app.get("/v1/consents?state=refused").await.json();
    assert_eq!(refused["items"].as_array().unwrap().len(), 1);

    let ndjson = get_as(&app, "/v1/consents", "application/x-ndjson").await;
    ndjson.assert_status(200);
    assert!(ndjson
        .header("content-type")
        .unwrap()
        .starts_with("application/x-ndjson"));
    let lines: Vec<Value> = String::from_utf8(ndjson.body.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, all);

    let csv = get_as(&app, "/v1/consents", "text/csv").await;
    csv.assert_status(200);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("subject_id,purpose,status,state,eligible,purpose_version,given_at,expires_at,updated_at")
    );
    assert_eq!(rows.count(), 4);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'consent.export' AND subject_id IS NULL"
        ),
        5
    );
}

#[actix_web::test]
async fn bad_export_and_expiring_parameters_are_named_and_log_nothing() {
    let app = TestApp::spawn().await;
    let before = app.db.count("SELECT 1 FROM access_log");
    for (path, field) in [
        ("/v1/consents?state=lapsed", "state"),
        ("/v1/consents?cursor=nonsense", "cursor"),
        ("/v1/consents?limit=0", "limit"),
        ("/v1/consents/expiring?within_days=367", "within_days"),
        ("/v1/consents/expiring?within_days=-1", "within_days"),
        ("/v1/consents/expiring?cursor=x", "cursor"),
    ] {
        let res = app.get(path).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), [field], "{path}");
    }
    for path in [
        "/v1/consents?purpose=no_such_purpose",
        "/v1/consents/expiring?purpose=no_such_purpose",
    ] {
        app.get(path).await.assert_status(404);
    }
    let denied = app
        .db
        .count("SELECT 1 FROM access_log WHERE outcome = 'denied'");
    assert_eq!(denied, 0);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action IN ('consent.export', 'consent.read')"),
        0,
        "a refused read is no read"
    );
    assert!(app.db.count("SELECT 1 FROM access_log") >= before);
}

#[actix_web::test]
async fn expiring_counts_days_by_the_tallinn_calendar() {
    let app = TestApp::spawn().await;
    with_validity(&app, 12).await;
    let (soon, later) = (insert_subject(&app), insert_subject(&app));
    grant(&app, soon).await;
    grant(&app, later).await;
    // D, the last valid day, 10 days from today (Tallinn) for one, 40 for the other.
    for (subject, days) in [(soon, 10), (later, 40)] {
        app.db.exec(&format!(
            "UPDATE consents SET expires_at = \
               ((now() AT TIME ZONE 'Europe/Tallinn')::date + {days} + 1)::timestamp \
                 AT TIME ZONE 'Europe/Tallinn' WHERE subject_id = '{subject}'"
        ));
    }
    assert!(expiring_ids(&app, 9).await.is_empty());
    assert_eq!(expiring_ids(&app, 10).await, [json!(soon)]);
    assert_eq!(expiring_ids(&app, 39).await, [json!(soon)]);
    let mut both = expiring_ids(&app, 40).await;
    both.sort_by_key(|v| v.to_string());
    let mut want = vec![json!(soon), json!(later)];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(both, want);
    let res = app.get("/v1/consents/expiring").await.json();
    assert_eq!(res["items"][0]["state"], "given");
    assert_eq!(
        app.db.scalar(
            "SELECT count::text FROM access_log WHERE action = 'consent.read' \
             AND subject_id IS NULL ORDER BY seq DESC LIMIT 1"
        ),
        "1"
    );
}

#[actix_web::test]
async fn an_authorization_follows_its_consent_through_withdrawal_and_a_new_grant() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let (recipient, _) = follower(&app, subject).await;
    // No decision yet: the flag is unset, so nothing may be disclosed.
    assert_eq!(
        authorization_state(&app, subject).await,
        (json!(false), json!("consent_unset"))
    );
    assert_eq!(partner_read(&app, recipient, subject).await, 403);
    let record = json!({"recipient_id": recipient, "data_categories": ["identity"],
                        "channel": "email", "note": "sent"});
    let path = format!("/v1/subjects/{subject}/disclosures");
    app.post(&path, record.clone())
        .await
        .assert_problem(403, "disclosure-not-authorized");

    grant(&app, subject).await;
    assert_eq!(partner_read(&app, recipient, subject).await, 200);
    app.post(&path, record.clone()).await.assert_status(201);

    put(
        &app,
        subject,
        PARTNERS,
        json!({"status": "withdrawn", "method": "unsubscribe_link"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        authorization_state(&app, subject).await,
        (json!(false), json!("consent_withdrawn"))
    );
    assert_eq!(partner_read(&app, recipient, subject).await, 403);
    app.post(&path, record.clone())
        .await
        .assert_problem(403, "disclosure-not-authorized");
    let token = token_for("partner", &[Scope::Partner], Some(recipient));
    let list = app
        .send(
            TestRequest::get()
                .uri("/v1/partner/subjects")
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    list.assert_status(200);
    assert_eq!(list.json()["items"], json!([]));

    // A material version invalidates the grant, and the authorization with it.
    grant(&app, subject).await;
    add_version(&app, PARTNERS, Some("\"1\""), version(true, json!({})))
        .await
        .assert_status(201);
    assert_eq!(
        authorization_state(&app, subject).await,
        (json!(false), json!("consent_invalidated"))
    );
    assert_eq!(partner_read(&app, recipient, subject).await, 403);
}

#[actix_web::test]
async fn a_followed_consent_must_be_an_opt_in_purpose_of_a_consent_authorization() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let (recipient, _) = follower(&app, subject).await;
    let before = app.db.count("SELECT 1 FROM disclosure_authorizations");
    let base = json!({"recipient_id": recipient, "legal_basis": "consent",
                      "consent_evidence": "web form", "data_categories": ["identity"],
                      "purpose": "partner offers"});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for body in [
        with(
            json!({"legal_basis": "legal_obligation", "legal_reference": "§ 1",
                    "consent_purpose": PARTNERS}),
        ),
        with(json!({"consent_purpose": "marketing_planpro"})),
        with(json!({"consent_purpose": "no_such_purpose"})),
        with(json!({"consent_purpose": "Not An Id"})),
    ] {
        let res = app
            .post(
                &format!("/v1/subjects/{subject}/disclosure-authorizations"),
                body.clone(),
            )
            .await;
        res.assert_status(400);
        assert_eq!(res.bad_fields(), ["consent_purpose"], "{body}");
    }
    assert_eq!(
        app.db.count("SELECT 1 FROM disclosure_authorizations"),
        before
    );
}

#[actix_web::test]
async fn a_receipt_states_the_version_its_notice_termination_third_parties_and_state() {
    let app = TestApp::spawn().await;
    with_validity(&app, 6).await;
    let subject = insert_subject(&app);
    follower(&app, subject).await;
    let flag = grant(&app, subject).await;
    let history = app
        .get(&format!("/v1/subjects/{subject}/consents/history"))
        .await
        .json();
    let event = history["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(history["items"][0]["purpose_version"], 2);
    let res = app
        .get(&format!(
            "/v1/subjects/{subject}/consents/history/{event}/receipt"
        ))
        .await;
    res.assert_status(200);
    let p = crate::jws::payload_unverified(std::str::from_utf8(&res.body).unwrap());
    let purpose = &p["services"][0]["purposes"][0];
    let current = app.get(&format!("/v1/purposes/{PARTNERS}")).await.json();
    assert_eq!(purpose["purposeVersion"], 2);
    assert_eq!(purpose["noticeSha256"], current["text_sha256"]);
    let expires: chrono::DateTime<chrono::Utc> =
        flag["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        purpose["termination"],
        expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(purpose["thirdPartyName"], "Partner OÜ");
    assert_eq!(purpose["thirdPartyDisclosure"], true);
    assert_eq!(p["state"], "given");
    assert_eq!(p["guardian"], Value::Null);
    assert!(p["withdrawalMethod"]
        .as_str()
        .unwrap()
        .contains("privacy@planpro.ee"));
    assert!(p["storageLocation"].is_string() && p.get("policyUrl").is_some());
    assert!(p.get("retention").is_some());

    // A withdrawal's receipt terminates nothing further: "on withdrawal", state withdrawn.
    put(
        &app,
        subject,
        PARTNERS,
        json!({"status": "withdrawn", "method": "email"}),
    )
    .await
    .assert_status(200);
    let history = app
        .get(&format!("/v1/subjects/{subject}/consents/history"))
        .await
        .json();
    let event = history["items"][0]["id"].as_str().unwrap();
    let res = app
        .get(&format!(
            "/v1/subjects/{subject}/consents/history/{event}/receipt"
        ))
        .await;
    let p = crate::jws::payload_unverified(std::str::from_utf8(&res.body).unwrap());
    assert_eq!(p["state"], "withdrawn");
    assert_eq!(
        p["services"][0]["purposes"][0]["termination"],
        "on withdrawal"
    );
}
