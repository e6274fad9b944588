//! Withheld disclosures (contract v3, A): a legal-obligation disclosure the person is not shown
//! until a Tallinn date. Before it, every view of theirs leaves out the disclosure, the
//! authorization covering it, their entries and the notices to that recipient; it is no activity
//! and does not bring the Art. 14 date forward. On the date (moved here through the stored
//! value, as other tests move clocks) everything appears. Staff see all throughout.

use crate::harness::{staff, Resp, TestApp};
use crate::me::{as_person, person, self_token, CODE};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{DateTime, Duration, Utc};
use planpro_privacy::auth::Scope;
use planpro_privacy::domain::deadline::tallinn_date;
use serde_json::{json, Value};

const AUTHORITY: &str = "Lõuna Prefektuur";
const AUTHORITY_CODE: &str = "70008747";

/// The Tallinn date `days` from today.
fn in_days(days: i64) -> String {
    (tallinn_date(Utc::now()) + Duration::days(days)).to_string()
}

async fn get(app: &TestApp, path: &str) -> Resp {
    as_person(
        app,
        "GET",
        path,
        &self_token(&format!("EE{CODE}"), None),
        None,
    )
    .await
}

async fn obligation(app: &TestApp, subject: &str, recipient: &str) -> String {
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "legal_obligation",
                   "legal_reference": "KrMS § 215", "data_categories": ["identity"],
                   "purpose": "criminal proceedings"}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn disclose(app: &TestApp, subject: &str, body: Value) -> Resp {
    app.post(&format!("/v1/subjects/{subject}/disclosures"), body)
        .await
}

fn withheld_body(recipient: &str, until: &str) -> Value {
    json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "paper",
           "subject_notice_withheld_until": until, "withheld_reason": "KrMS § 214"})
}

async fn withhold(app: &TestApp, subject: &str, disclosure: &str, body: Value) -> Resp {
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/disclosures/{disclosure}/withholding"),
        &staff(),
        Some(body),
    )
    .await
}

/// Moves the disclosure's date to today: from now on it is no longer withheld.
fn release(app: &TestApp, disclosure: &str) {
    app.db.exec(&format!(
        "UPDATE disclosures SET withheld_until = (now() AT TIME ZONE 'Europe/Tallinn')::date \
         WHERE id = '{disclosure}'"
    ));
}

/// The person, a legal-obligation disclosure to the authority withheld for 30 days, and a
/// correction, which queues a notice to the authority (Art. 19).
async fn arranged(app: &TestApp) -> (String, String, String) {
    let subject = person(app, CODE).await.to_string();
    let authority = crate::access_response::recipient(app, AUTHORITY, AUTHORITY_CODE).await;
    obligation(app, &subject, &authority).await;
    let res = disclose(app, &subject, withheld_body(&authority, &in_days(30))).await;
    res.assert_status(201);
    let disclosure = res.json()["id"].as_str().unwrap().to_owned();
    crate::notices::rectify(
        app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM notices WHERE recipient_id = '{authority}'"
        )),
        1
    );
    (subject, authority, disclosure)
}

/// What the person's views show that tells of the authority.
#[derive(Debug, PartialEq)]
struct Shown {
    /// Actions of access-log entries naming the authority, or granting its authorization.
    log: Vec<String>,
    /// `findUsage` rows naming the authority.
    usage: usize,
    /// Access-response recipients named so, disclosures, authorizations, notices and
    /// summary rows of their actions.
    recipients: usize,
    disclosures: usize,
    authorizations: usize,
    notices: usize,
    summary: Vec<String>,
    /// The status of the inclusion proof of the disclosure's entry.
    proof: u16,
}

fn tells(document: &Value, authority: &str) -> (usize, usize, usize, usize, Vec<String>) {
    let named = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|i| i["recipient_id"] == authority)
            .count()
    };
    let data = &document["personal_data"];
    let summary = document["access_log_summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["organisation"]["name"] == AUTHORITY || r["action"] == "disclosure.authorize")
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect();
    (
        named(&document["recipients"]),
        named(&data["disclosures"]),
        named(&data["disclosure_authorizations"]),
        named(&data["notifications"]),
        summary,
    )
}

async fn shown(app: &TestApp, subject: &str, authority: &str) -> Shown {
    let log = get(app, "/v1/me/access-log?limit=1000").await.json();
    let log: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["organisation"]["name"] == AUTHORITY || i["action"] == "disclosure.authorize")
        .map(|i| i["action"].as_str().unwrap().to_owned())
        .collect();
    let usage = get(app, "/v1/me/usage?limit=1000").await.json()["usage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["receiver"] == AUTHORITY_CODE)
        .count();
    let response = get(app, "/v1/me/access-response").await;
    response.assert_status(200);
    let (recipients, disclosures, authorizations, notices, summary) =
        tells(&response.json(), authority);
    let entry = app.db.scalar(&format!(
        "SELECT id FROM access_log WHERE subject_id = '{subject}' \
         AND action = 'disclosure.record' ORDER BY seq LIMIT 1"
    ));
    let proof = get(app, &format!("/v1/access-logs/{entry}/inclusion-proof")).await;
    Shown {
        log,
        usage,
        recipients,
        disclosures,
        authorizations,
        notices,
        summary,
        proof: proof.status.as_u16(),
    }
}

#[actix_web::test]
async fn every_view_of_the_person_leaves_it_out_until_the_date_and_staff_see_all() {
    let app = TestApp::spawn().await;
    let (subject, authority, disclosure) = arranged(&app).await;
    let before = shown(&app, &subject, &authority).await;
    assert_eq!(
        before,
        Shown {
            log: vec![],
            usage: 0,
            recipients: 0,
            disclosures: 0,
            authorizations: 0,
            notices: 0,
            summary: vec![],
            proof: 404,
        }
    );
    // Staff see the disclosure with its withholding, and every entry.
    let listed = app
        .get(&format!("/v1/subjects/{subject}/disclosures"))
        .await
        .json();
    assert_eq!(
        listed["items"][0]["subject_notice_withheld_until"],
        in_days(30)
    );
    assert_eq!(listed["items"][0]["withheld_reason"], "KrMS § 214");
    let staff_log = app
        .get(&format!("/v1/access-logs?subject_id={subject}&limit=1000"))
        .await
        .json();
    let actions: Vec<&str> = staff_log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"disclosure.record") && actions.contains(&"disclosure.authorize"));
    let export = app
        .get(&format!("/v1/subjects/{subject}/export"))
        .await
        .json();
    assert_eq!(export["disclosures"].as_array().unwrap().len(), 1);
    assert_eq!(export["notifications"].as_array().unwrap().len(), 1);
    // An access response frozen while it is withheld leaves it out for good.
    let request = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "access", "subject_id": subject, "channel": "email",
                   "received_at": Utc::now() - Duration::hours(1)}),
        )
        .await;
    request.assert_status(201);
    let frozen = app
        .post(
            &format!(
                "/v1/privacy-requests/{}/access-response",
                request.json()["id"].as_str().unwrap()
            ),
            json!({"lang": null}),
        )
        .await;
    frozen.assert_status(201);

    release(&app, &disclosure);
    let after = shown(&app, &subject, &authority).await;
    assert!(
        after.log.contains(&"disclosure.record".to_owned()),
        "{after:?}"
    );
    assert!(
        after.log.contains(&"disclosure.authorize".to_owned()),
        "{after:?}"
    );
    assert_eq!(after.usage, 1);
    assert_eq!(
        (
            after.recipients,
            after.disclosures,
            after.authorizations,
            after.notices
        ),
        (1, 1, 1, 1)
    );
    assert!(after.summary.contains(&"disclosure.record".to_owned()));
    assert!(after.summary.contains(&"disclosure.authorize".to_owned()));
    assert_ne!(after.proof, 404);
    let url = frozen.json()["download_url"].as_str().unwrap().to_owned();
    let download = app.send(TestRequest::post().uri(&url)).await;
    download.assert_status(200);
    let document: Value = serde_json::from_slice(&download.body).unwrap();
    assert_eq!(tells(&document, &authority), (0, 0, 0, 0, vec![]));
}

/// `last_activity_at` as the record shows it.
async fn last_activity(app: &TestApp, subject: &str) -> DateTime<Utc> {
    let record = app.get(&format!("/v1/subjects/{subject}")).await.json();
    record["last_activity_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn due_list_has(app: &TestApp, subject: &str) -> bool {
    let due = app.get("/v1/retention/due?limit=1000").await.json();
    due["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["subject_id"] == subject)
}

/// The keep date the person's access response tells them.
async fn keep_until(app: &TestApp, subject: &str) -> Value {
    let response = app
        .get(&format!("/v1/subjects/{subject}/access-response"))
        .await
        .json();
    response["retention"]["keep_until"].clone()
}

#[actix_web::test]
async fn it_is_no_activity_and_brings_no_art14_date_forward_until_the_date() {
    let app = TestApp::spawn().await;
    app.post(
        "/v1/retention/rules",
        json!({"subject_kind": "client", "keep_months": 12, "legal_basis": "Accounting Act"}),
    )
    .await
    .assert_status(201);
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "source": {"type": "third_party", "name": "Partner OÜ",
                              "reference": "contract 2026-17", "collected_at": Utc::now(),
                              "lawful_collection_attestation": "signed statement"}}),
        )
        .await;
    res.assert_status(201);
    let subject = res.json()["id"].as_str().unwrap().to_owned();
    let due_on = res.json()["art14"]["due_on"].clone();
    assert!(due_on.as_str().unwrap() > tallinn_date(Utc::now()).to_string().as_str());
    let authority = crate::access_response::recipient(&app, AUTHORITY, AUTHORITY_CODE).await;
    obligation(&app, &subject, &authority).await;
    // Long inactive: past its keep date.
    app.db.exec(&format!(
        "UPDATE subjects SET last_activity_at = now() - interval '400 days' WHERE id = '{subject}'"
    ));
    // Long inactive since (the correction's activity moved back), so that the end shows.
    app.db.exec(&format!(
        "UPDATE subjects SET last_activity_at = now() - interval '400 days' WHERE id = '{subject}'"
    ));
    let inactive = last_activity(&app, &subject).await;
    let res = disclose(&app, &subject, withheld_body(&authority, &in_days(30))).await;
    res.assert_status(201);
    let disclosure = res.json()["id"].as_str().unwrap().to_owned();
    let record = app.get(&format!("/v1/subjects/{subject}")).await.json();
    assert_eq!(record["art14"]["due_on"], due_on);
    assert_eq!(last_activity(&app, &subject).await, inactive);
    assert!(due_list_has(&app, &subject).await);
    let kept_before = keep_until(&app, &subject).await;
    let overdue = format!("/v1/information-notices/due?overdue_on={}", in_days(1));
    let listed = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["subject_id"] == subject.as_str())
    };
    assert!(!listed(&app.get(&overdue).await.json()));

    release(&app, &disclosure);
    let disclosed_at: DateTime<Utc> = app
        .get(&format!("/v1/subjects/{subject}/disclosures"))
        .await
        .json()["items"][0]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(last_activity(&app, &subject).await, disclosed_at);
    assert!(!due_list_has(&app, &subject).await);
    assert_ne!(keep_until(&app, &subject).await, kept_before);
    let record = app.get(&format!("/v1/subjects/{subject}")).await.json();
    assert_eq!(
        record["art14"]["due_on"],
        tallinn_date(disclosed_at).to_string()
    );
    assert!(listed(&app.get(&overdue).await.json()));
}

/// The disclosure's withholding as stored, its request ids and its entries: what a refused
/// change must leave as it was.
fn stored(app: &TestApp, disclosure: &str) -> String {
    app.db.scalar(&format!(
        "SELECT concat_ws(' ', withheld_until, withholding_request_ids::text, \
           md5(withheld_reason_enc), \
           (SELECT count(*) FROM access_log WHERE action = 'disclosure.record' \
              AND outcome = 'allowed')) \
         FROM disclosures WHERE id = '{disclosure}'"
    ))
}

#[actix_web::test]
async fn the_withholding_is_extended_or_ended_and_bad_changes_change_nothing() {
    let app = TestApp::spawn().await;
    let (subject, authority, disclosure) = arranged(&app).await;
    let before = stored(&app, &disclosure);
    let long = "x".repeat(501);
    for (body, fields) in [
        (json!({}), vec!["until"]),
        (json!({"reason": "why"}), vec!["until"]),
        (
            json!({"until": "30.12.2027", "reason": "why"}),
            vec!["until"],
        ),
        (json!({"until": in_days(0), "reason": "why"}), vec!["until"]),
        (json!({"until": in_days(-3)}), vec!["reason", "until"]),
        (json!({"until": in_days(60)}), vec!["reason"]),
        (json!({"until": in_days(60), "reason": " "}), vec!["reason"]),
        (
            json!({"until": in_days(60), "reason": long}),
            vec!["reason"],
        ),
        (
            json!({"until": in_days(60), "reason": "a\u{202e}b"}),
            vec!["reason"],
        ),
        (json!({"until": null, "reason": "why"}), vec!["reason"]),
        (json!({"until": null, "extra": 1}), vec!["extra"]),
    ] {
        let res = withhold(&app, &subject, &disclosure, body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}");
        assert_eq!(stored(&app, &disclosure), before, "{body}");
    }
    let unknown = uuid::Uuid::new_v4();
    let ok = json!({"until": in_days(90), "reason": "KrMS § 214, extended"});
    withhold(&app, &unknown.to_string(), &disclosure, ok.clone())
        .await
        .assert_status(404);
    withhold(&app, &subject, &unknown.to_string(), ok.clone())
        .await
        .assert_status(404);
    let res = app
        .call(
            Method::PUT,
            &format!("/v1/subjects/{subject}/disclosures/{disclosure}/withholding"),
            &[Scope::DisclosuresRead],
            Some(ok.clone()),
        )
        .await;
    res.assert_status(403);
    assert_eq!(stored(&app, &disclosure), before);

    // Extended: the new date, and its entry withheld with the disclosure.
    let res = withhold(&app, &subject, &disclosure, ok).await;
    res.assert_status(200);
    assert!(res.header("ETag").is_some());
    assert_eq!(res.json()["subject_notice_withheld_until"], in_days(90));
    assert_eq!(res.json()["withheld_reason"], "KrMS § 214, extended");
    let recorded = |app: &TestApp| {
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE subject_id = '{subject}' \
             AND action = 'disclosure.record' AND outcome = 'allowed'"
        ))
    };
    assert_eq!(recorded(&app), 2);
    assert_eq!(
        shown(&app, &subject, &authority).await.log,
        Vec::<String>::new()
    );
    // Long inactive since (the correction's activity moved back), so that the end shows.
    app.db.exec(&format!(
        "UPDATE subjects SET last_activity_at = now() - interval '400 days' WHERE id = '{subject}'"
    ));
    let inactive = last_activity(&app, &subject).await;

    // Ended: everything appears, and the disclosure is activity from its own moment.
    let res = withhold(&app, &subject, &disclosure, json!({"until": null})).await;
    res.assert_status(200);
    assert_eq!(res.json()["subject_notice_withheld_until"], Value::Null);
    assert_eq!(res.json()["withheld_reason"], Value::Null);
    let at: DateTime<Utc> = res.json()["at"].as_str().unwrap().parse().unwrap();
    assert!(at > inactive, "the disclosure came after the last activity");
    assert_eq!(last_activity(&app, &subject).await, at);
    let seen = shown(&app, &subject, &authority).await.log;
    assert_eq!(
        seen.iter().filter(|a| *a == "disclosure.record").count(),
        3,
        "{seen:?}"
    );
    // Nothing is withheld any more, and a disclosure never withheld has nothing to change.
    let again = withhold(&app, &subject, &disclosure, json!({"until": null})).await;
    again.assert_problem(409, "withholding-not-allowed");
    let plain = disclose(
        &app,
        &subject,
        json!({"recipient_id": authority, "data_categories": ["identity"], "channel": "paper"}),
    )
    .await;
    plain.assert_status(201);
    let plain = plain.json()["id"].as_str().unwrap().to_owned();
    let res = withhold(
        &app,
        &subject,
        &plain,
        json!({"until": in_days(10), "reason": "late"}),
    )
    .await;
    res.assert_problem(409, "withholding-not-allowed");
    assert_eq!(recorded(&app), 4);
}

#[actix_web::test]
async fn only_a_disclosure_on_legal_obligations_alone_may_be_withheld() {
    let app = TestApp::spawn().await;
    let subject = person(&app, CODE).await.to_string();
    let authority = crate::access_response::recipient(&app, AUTHORITY, AUTHORITY_CODE).await;
    let partner = crate::access_response::recipient(&app, "Partner OÜ", "12345678").await;
    app.post(
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        json!({"recipient_id": partner, "legal_basis": "consent",
               "consent_evidence": "form 1", "data_categories": ["identity"],
               "purpose": "offers"}),
    )
    .await
    .assert_status(201);
    let disclosures = || app.db.count("SELECT 1 FROM disclosures");
    let res = disclose(&app, &subject, withheld_body(&partner, &in_days(30))).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["subject_notice_withheld_until"]);
    // A legal obligation beside the consent is not enough: the consent covers it too.
    obligation(&app, &subject, &partner).await;
    let res = disclose(&app, &subject, withheld_body(&partner, &in_days(30))).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["subject_notice_withheld_until"]);
    assert_eq!(disclosures(), 0);
    obligation(&app, &subject, &authority).await;
    let base = withheld_body(&authority, &in_days(30));
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let without_reason = {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove("withheld_reason");
        body
    };
    let without_date = {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .remove("subject_notice_withheld_until");
        body
    };
    for (body, field) in [
        (without_reason, "withheld_reason"),
        (without_date, "withheld_reason"),
        (
            with("subject_notice_withheld_until", json!(in_days(0))),
            "subject_notice_withheld_until",
        ),
        (
            with("withheld_reason", json!("a\u{200b}b")),
            "withheld_reason",
        ),
        (
            with("withheld_reason", json!("y".repeat(501))),
            "withheld_reason",
        ),
    ] {
        let res = disclose(&app, &subject, body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), [field], "{body}");
    }
    assert_eq!(disclosures(), 0);
    disclose(&app, &subject, base).await.assert_status(201);
    assert_eq!(disclosures(), 1);
}
