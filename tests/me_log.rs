//! What the person sees of who used their data (contract v3, A): their access log (kinds and
//! organisations, never a staff `sub`), the same in the data tracker's `findUsage` shape, their
//! access response, and the inclusion proofs of their own entries only.

use crate::harness::{token_for, TestApp};
use crate::me::{as_person, person, self_token, CODE};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use planpro_privacy::access_log::merkle::{verify_inclusion, Hash};
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

fn mine() -> String {
    self_token(&format!("EE{CODE}"), None)
}

async fn get(app: &TestApp, path: &str) -> crate::harness::Resp {
    as_person(app, "GET", path, &mine(), None).await
}

/// The person, whose record staff read (as `mari.tamm@planpro.ee`, who must never be shown),
/// a partner read it, and the person looked at it themselves; a disclosure to the partner.
async fn arranged(app: &TestApp) -> (Uuid, Uuid) {
    let (subject, recipient, _) = crate::notices::arrange(app, None).await;
    let subject: Uuid = subject.parse().unwrap();
    let recipient: Uuid = recipient.parse().unwrap();
    app.send(
        actix_web::test::TestRequest::get()
            .uri(&format!("/v1/subjects/{subject}"))
            .insert_header((
                "Authorization",
                format!(
                    "Bearer {}",
                    token_for("mari.tamm@planpro.ee", &[Scope::SubjectsRead], None)
                ),
            ))
            .insert_header(("X-Access-Purpose", "answering the person's letter")),
    )
    .await
    .assert_status(200);
    app.send(
        actix_web::test::TestRequest::get()
            .uri(&format!("/v1/partner/subjects/{subject}"))
            .insert_header((
                "Authorization",
                format!(
                    "Bearer {}",
                    token_for("partner-app", &[Scope::Partner], Some(recipient))
                ),
            )),
    )
    .await
    .assert_status(200);
    get(app, "/v1/me").await.assert_status(200);
    (subject, recipient)
}

#[actix_web::test]
async fn the_access_log_shows_kinds_and_organisations_never_a_staff_sub() {
    let app = TestApp::spawn().await;
    let (subject, recipient) = arranged(&app).await;
    let res = get(&app, "/v1/me/access-log").await;
    res.assert_status(200);
    let body = res.json();
    let text = body.to_string();
    assert!(
        !text.contains("mari.tamm"),
        "a staff sub reached the person: {text}"
    );
    assert!(
        !text.contains("tester"),
        "a staff sub reached the person: {text}"
    );
    let items = body["items"].as_array().unwrap();
    let stored = app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE subject_id = '{subject}'"
    ));
    // Every entry about them but the one this read wrote.
    assert_eq!(items.len() as i64, stored - 1);
    assert_eq!(items[0]["action"], "subject.read");
    assert_eq!(items[0]["actor_kind"], "you");
    assert_eq!(
        items[0]["organisation"]["name"],
        crate::harness::CONTROLLER_NAME
    );
    let partner = items
        .iter()
        .find(|i| i["action"] == "partner.read")
        .unwrap();
    assert_eq!(partner["actor_kind"], "recipient");
    assert_eq!(partner["organisation"]["name"], "Partner OÜ");
    assert_eq!(partner["label"]["et"], "Andmed väljastati partnerile");
    assert_eq!(partner["label"]["en"], "Data released to a partner");
    assert_eq!(partner["label"]["ru"], "Данные переданы партнёру");
    assert!(partner["categories"].is_array());
    let staff_read = items
        .iter()
        .find(|i| i["purpose"] == "answering the person's letter")
        .unwrap();
    assert_eq!(staff_read["actor_kind"], "staff");
    assert_eq!(staff_read["categories"], Value::Null);
    let record = items
        .iter()
        .find(|i| i["action"] == "disclosure.record")
        .unwrap();
    assert_eq!(record["organisation"]["name"], "Partner OÜ");
    assert_eq!(record["categories"], json!(["contact", "identity"]));
    assert_eq!(
        record["proof"],
        format!(
            "/v1/access-logs/{}/inclusion-proof",
            record["id"].as_str().unwrap()
        )
    );
    // Newest first, and a page of one carries on with its cursor.
    let first = get(&app, "/v1/me/access-log?limit=1").await.json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&app, &format!("/v1/me/access-log?limit=1&cursor={cursor}"))
        .await
        .json();
    assert!(
        first["items"][0]["at"].as_str().unwrap() >= second["items"][0]["at"].as_str().unwrap()
    );
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let _ = recipient;
    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("cursor=zzz", vec!["cursor"]),
        ("limit=5&actor=x", vec!["actor"]),
    ] {
        let res = get(&app, &format!("/v1/me/access-log?{query}")).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{query}");
    }
    let refused = app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE subject_id = '{subject}' AND action = 'access_log.read' \
         AND outcome = 'denied' AND actor = 'subject:{subject}'"
    ));
    assert_eq!(refused, 3);
}

#[actix_web::test]
async fn usage_is_find_usage_without_the_person_s_own_calls() {
    let app = TestApp::spawn().await;
    let (subject, _) = arranged(&app).await;
    let res = get(&app, "/v1/me/usage").await;
    res.assert_status(200);
    let usage = res.json()["usage"].as_array().unwrap().clone();
    let others = app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE subject_id = '{subject}' AND actor <> 'subject:{subject}'"
    ));
    assert_eq!(usage.len() as i64, others);
    let partner = usage
        .iter()
        .find(|u| u["action"] == "Andmed väljastati partnerile")
        .unwrap();
    // The partner has no registry code in this fixture: its name.
    assert_eq!(partner["receiver"], "Partner OÜ");
    let logtime = partner["logtime"].as_str().unwrap();
    assert_eq!(logtime.len(), 20, "{logtime}");
    assert!(logtime.ends_with('Z'));
    // `offset` counts entries from 1.
    let second = get(&app, "/v1/me/usage?offset=2&limit=1").await.json();
    assert_eq!(second["usage"], json!([usage[1]]));
    let beyond = get(&app, &format!("/v1/me/usage?offset={}", others + 1))
        .await
        .json();
    assert_eq!(beyond["usage"], json!([]));
    for (query, fields) in [
        ("offset=0", vec!["offset"]),
        ("offset=-3&limit=1001", vec!["limit", "offset"]),
        ("limit=0", vec!["limit"]),
        ("offset=x", vec!["offset"]),
        ("cursor=1", vec!["cursor"]),
    ] {
        let res = get(&app, &format!("/v1/me/usage?{query}")).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{query}");
    }
}

#[actix_web::test]
async fn the_access_response_is_the_staff_one_for_the_person() {
    let app = TestApp::spawn().await;
    let (subject, _) = arranged(&app).await;
    let res = get(&app, "/v1/me/access-response?lang=et").await;
    res.assert_status(200);
    let mine = res.json();
    assert_eq!(mine["lang"], "et");
    assert_eq!(mine["confirmation"]["subject_id"], subject.to_string());
    assert!(!mine.to_string().contains("mari.tamm"), "{mine}");
    assert!(!mine.to_string().contains("\"tester\""), "{mine}");
    assert!(mine["personal_data"]["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "staff"));
    let staff = app
        .get(&format!("/v1/subjects/{subject}/access-response?lang=et"))
        .await
        .json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&mine), keys(&staff));
    assert_eq!(mine["recipients"], staff["recipients"]);
    assert!(
        staff.to_string().contains("mari.tamm"),
        "staff see who acted"
    );
    let page = get(&app, "/v1/me/access-response?format=html&lang=ru").await;
    page.assert_status(200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let res = get(&app, "/v1/me/access-response?lang=fi&format=pdf").await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["format", "lang"]);
    assert_eq!(
        crate::me::entries(&app).pop().unwrap(),
        json!({"actor": format!("subject:{subject}"), "action": "access_response.read",
               "subject_id": subject, "outcome": "denied"})
    );
}

fn root_of(checkpoint: &str) -> Hash {
    let line = checkpoint.lines().nth(2).unwrap();
    B64.decode(line).unwrap().try_into().unwrap()
}

fn hash(text: &str) -> Hash {
    B64.decode(text).unwrap().try_into().unwrap()
}

#[actix_web::test]
async fn a_person_proves_their_own_entries_only_without_staff_names() {
    let app = TestApp::spawn().await;
    let (subject, _) = arranged(&app).await;
    let other = person(&app, "37605030299").await;
    app.get(&format!("/v1/subjects/{other}"))
        .await
        .assert_status(200);
    app.wait_for_checkpoint().await;
    let staff_entry = app.db.scalar(&format!(
        "SELECT id FROM access_log WHERE subject_id = '{subject}' \
         AND actor = 'mari.tamm@planpro.ee'"
    ));
    let res = get(
        &app,
        &format!("/v1/access-logs/{staff_entry}/inclusion-proof"),
    )
    .await;
    res.assert_status(200);
    let proof = res.json();
    assert_eq!(proof["entry"]["actor"], Value::Null);
    assert_eq!(proof["entry"]["actor_kind"], "staff");
    assert!(!proof.to_string().contains("mari.tamm"));
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash(h.as_str().unwrap()))
        .collect();
    assert!(verify_inclusion(
        proof["leaf_index"].as_u64().unwrap(),
        proof["tree_size"].as_u64().unwrap(),
        &hash(proof["leaf_hash"].as_str().unwrap()),
        &hashes,
        &root_of(proof["checkpoint"].as_str().unwrap()),
    ));
    // Their own call keeps its actor.
    let own = app.db.scalar(&format!(
        "SELECT id FROM access_log WHERE actor = 'subject:{subject}' ORDER BY seq LIMIT 1"
    ));
    let res = get(&app, &format!("/v1/access-logs/{own}/inclusion-proof")).await;
    res.assert_status(200);
    assert_eq!(res.json()["entry"]["actor"], format!("subject:{subject}"));
    assert_eq!(res.json()["entry"]["actor_kind"], "you");
    // Another person's entry, or none: the same 404.
    let others = app.db.scalar(&format!(
        "SELECT id FROM access_log WHERE subject_id = '{other}' LIMIT 1"
    ));
    let a = get(&app, &format!("/v1/access-logs/{others}/inclusion-proof")).await;
    a.assert_problem(404, "not-found");
    let b = get(
        &app,
        &format!("/v1/access-logs/{}/inclusion-proof", Uuid::now_v7()),
    )
    .await;
    b.assert_problem(404, "not-found");
    assert_eq!(a.json()["detail"], b.json()["detail"]);
    // Staff still get the whole entry.
    let staff = app
        .call(
            actix_web::http::Method::GET,
            &format!("/v1/access-logs/{staff_entry}/inclusion-proof"),
            &[Scope::AccessLogsRead],
            None,
        )
        .await;
    staff.assert_status(200);
    assert_eq!(staff.json()["entry"]["actor"], "mari.tamm@planpro.ee");
}
