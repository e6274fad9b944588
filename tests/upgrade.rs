//! A database of the first version (personal values in clear) upgraded in place by the migration
//! runner: every record reads back unchanged through the API, and nothing is left in clear.

use crate::harness::{test_config, TestApp, TestDb, SECRET};
use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::json;

/// Applies every migration before encryption at rest: the first version's schema.
fn migrate_to_clear_schema(db: &TestDb) -> diesel::PgConnection {
    let mut conn = db.conn();
    planpro_privacy::db::migrate_before(&mut conn, Some("2026-12-01-220000")).unwrap();
    assert_eq!(
        db.count("SELECT 1 FROM information_schema.tables WHERE table_name = 'subject_keys'"),
        0
    );
    conn
}

const S1: &str = "0190a000-0000-7000-8000-000000000001";
const S2: &str = "0190a000-0000-7000-8000-000000000002";
const RECIPIENT: &str = "0190a000-0000-7000-8000-0000000000aa";

/// The first version's rows, written as it wrote them.
const V1_DATA: &str = r#"
INSERT INTO subjects (id, version, kind, given_name, family_name, personal_code, email, phone,
    address_street, address_city, address_postal_code, address_country, preferred_language,
    source_type, source_name, source_reference, source_collected_at, source_attestation,
    created_at, updated_at)
VALUES
 ('0190a000-0000-7000-8000-000000000001', 2, 'client', 'Mari', 'Tamm', '49403136526',
  'mari@example.ee', '+3725551234', 'Pikk 1-2', 'Tallinn', '10123', 'EE', 'et',
  'third_party', 'Partner OÜ', 'contract 17', '2026-11-01 10:00:00.123456+00', 'signed 17-A',
  '2026-11-02 08:00:00+00', '2026-11-03 09:00:00+00'),
 ('0190a000-0000-7000-8000-000000000002', 1, 'contact', 'Jaan', 'Kask', NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, 'data_subject', NULL, NULL, NULL, NULL,
  '2026-11-02 08:00:00+00', '2026-11-02 08:00:00+00');
INSERT INTO rectifications (id, subject_id, field, old_value, new_value, reason, actor, at, request_id)
VALUES ('0190a000-0000-7000-8000-0000000000f1', '0190a000-0000-7000-8000-000000000001',
  'family_name', '"Maasikas"', '"Tamm"', 'married', 'clerk', '2026-11-03 09:00:00+00', 'req-1');
INSERT INTO consents (subject_id, purpose_id, status, method, evidence, updated_at, updated_by, last_event_id)
VALUES ('0190a000-0000-7000-8000-000000000001', 'marketing_partners', 'granted', 'letter',
  'letter of 2026-11-01', '2026-11-03 10:00:00+00', 'clerk', '0190a000-0000-7000-8000-0000000000e1');
INSERT INTO consent_events (id, subject_id, purpose_id, status, method, evidence, actor, at, request_id)
VALUES ('0190a000-0000-7000-8000-0000000000e1', '0190a000-0000-7000-8000-000000000001',
  'marketing_partners', 'granted', 'letter', 'letter of 2026-11-01', 'clerk',
  '2026-11-03 10:00:00+00', 'req-2');
INSERT INTO recipients (id, name, category, contact_email, created_at, updated_at)
VALUES ('0190a000-0000-7000-8000-0000000000aa', 'Partner OÜ', 'platform_service_provider',
  'dpo@partner.ee', '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00');
INSERT INTO disclosure_authorizations (id, subject_id, recipient_id, legal_basis, consent_evidence,
  data_categories, purpose, valid_from, created_by, created_at)
VALUES ('0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-000000000001',
  '0190a000-0000-7000-8000-0000000000aa', 'consent', 'form 2026-11-01', '{identity,contact}',
  'service', '2026-11-01 00:00:00+00', 'clerk', '2026-11-01 00:00:00+00');
INSERT INTO disclosures (id, subject_id, recipient_id, data_categories, channel, note,
  authorization_ids, actor, at, request_id)
VALUES ('0190a000-0000-7000-8000-0000000000d1', '0190a000-0000-7000-8000-000000000001',
  '0190a000-0000-7000-8000-0000000000aa', '{identity}', 'email', 'sent by post as well',
  '{0190a000-0000-7000-8000-0000000000a1}', 'clerk', '2026-11-04 00:00:00+00', 'req-3');
INSERT INTO idempotency_keys (key_hash, body_hash, status, body, entry_action, entry_subject_id)
VALUES ('\x01', '\x02', 201, convert_to('{"given_name":"Mari"}', 'UTF8'), 'subject.create',
  '0190a000-0000-7000-8000-000000000001'),
  ('\x03', '\x04', 201, convert_to('{"name":"Partner"}', 'UTF8'), NULL, NULL);
"#;

/// A subject erased before encryption at rest: its row emptied, its history still in clear.
const ERASED_BEFORE: &str = r#"
INSERT INTO subjects (id, kind, given_name, family_name, source_type, created_at, updated_at, erased_at)
VALUES ('0190a000-0000-7000-8000-000000000003', 'client', '', '', 'data_subject',
  '2026-11-02 08:00:00+00', '2026-11-05 08:00:00+00', '2026-11-05 08:00:00+00');
INSERT INTO rectifications (id, subject_id, field, old_value, new_value, reason, actor, at, request_id)
VALUES ('0190a000-0000-7000-8000-0000000000f3', '0190a000-0000-7000-8000-000000000003',
  'email', '"gone@example.ee"', '"gone2@example.ee"', 'moved away', 'clerk', '2026-11-03 09:00:00+00', 'req-9');
"#;

#[actix_web::test]
async fn a_first_version_database_upgrades_in_place_and_reads_back_unchanged() {
    let db = TestDb::empty();
    let mut conn = migrate_to_clear_schema(&db);
    conn.batch_execute(V1_DATA).unwrap();
    conn.batch_execute(ERASED_BEFORE).unwrap();
    // The upgrade reads times in the API's form whatever the session's settings.
    conn.batch_execute("SET TIME ZONE 'Europe/Tallinn'; SET DateStyle = 'SQL, DMY'")
        .unwrap();
    let applied = planpro_privacy::db::migrate(&mut conn).unwrap();
    assert!(applied >= 2, "{applied}");
    assert!(planpro_privacy::db::migrations_current(&mut conn));
    // The clear columns are gone; every personal value is a ciphertext.
    assert_eq!(
        db.count(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name IN ('subjects', 'rectifications', 'consents', 'consent_events', \
                                'disclosure_authorizations', 'disclosures', 'idempotency_keys') \
             AND column_name IN ('given_name', 'email', 'evidence', 'note', 'old_value', 'body')"
        ),
        0
    );
    assert_eq!(
        db.count("SELECT 1 FROM subject_keys"),
        2,
        "an erased subject gets no key"
    );
    // The erased subject's history keeps its row, without the values erasure meant gone.
    assert_eq!(
        db.count(
            "SELECT 1 FROM rectifications WHERE subject_id = '0190a000-0000-7000-8000-000000000003' \
             AND num_nonnulls(old_value_enc, new_value_enc, reason_enc) = 0"
        ),
        1
    );
    drop(conn);

    let config = test_config(&db.url);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    let mari = app.get(&format!("/v1/subjects/{S1}")).await;
    mari.assert_status(200);
    assert_eq!(mari.header("etag").as_deref(), Some("\"2\""));
    // (last_activity_at is retention's, defaulted when its column came.)
    let mut got = mari.json();
    assert!(got
        .as_object_mut()
        .unwrap()
        .remove("last_activity_at")
        .is_some_and(|v| v.is_string()));
    assert_eq!(
        got,
        json!({
            "id": S1, "version": 2, "kind": "client", "given_name": "Mari", "family_name": "Tamm",
            "personal_code": "49403136526", "email": "mari@example.ee", "phone": "+3725551234",
            "address": {"street": "Pikk 1-2", "city": "Tallinn", "postal_code": "10123", "country": "EE"},
            "preferred_language": "et", "restriction": null,
            "source": {"type": "third_party", "name": "Partner OÜ", "reference": "contract 17",
                       "collected_at": "2026-11-01T10:00:00.123456Z",
                       "lawful_collection_attestation": "signed 17-A"},
            // Its Art. 14 status came with the registers' backfill: due a month after its
            // creation, brought forward by its disclosure of 4 November.
            "art14": {"due_on": "2026-11-04", "status": "overdue", "informed_at": null,
                      "method": null, "notice_version": null, "exemption": null},
            "created_at": "2026-11-02T08:00:00Z", "updated_at": "2026-11-03T09:00:00Z"
        })
    );
    app.get("/v1/subjects/0190a000-0000-7000-8000-000000000003")
        .await
        .assert_problem(410, "subject-erased");
    let jaan = app.get(&format!("/v1/subjects/{S2}")).await.json();
    assert_eq!(jaan["given_name"], "Jaan");
    assert!(jaan["email"].is_null() && jaan["address"].is_null());

    // The lookups find them through the blind indexes the upgrade computed.
    let found = app
        .get("/v1/subjects?personal_code=49403136526")
        .await
        .json();
    assert_eq!(found["items"][0]["id"], S1);
    let found = app.get("/v1/subjects?email=mari@example.ee").await.json();
    assert_eq!(found["items"][0]["id"], S1);
    let mut again = mari.json();
    again["email"] = json!("other@example.ee");
    for key in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "restriction",
        "last_activity_at",
        "art14",
    ] {
        again.as_object_mut().unwrap().remove(key);
    }
    app.post("/v1/subjects", again).await.assert_status(409);

    let history = app
        .get(&format!("/v1/subjects/{S1}/rectifications"))
        .await
        .json();
    assert_eq!(history["items"][0]["old_value"], "Maasikas");
    assert_eq!(history["items"][0]["new_value"], "Tamm");
    assert_eq!(history["items"][0]["reason"], "married");
    let events = app
        .get(&format!("/v1/subjects/{S1}/consents/history"))
        .await
        .json();
    assert_eq!(events["items"][0]["evidence"], "letter of 2026-11-01");
    let auths = app
        .get(&format!("/v1/subjects/{S1}/disclosure-authorizations"))
        .await
        .json();
    assert_eq!(auths["items"][0]["consent_evidence"], "form 2026-11-01");
    assert_eq!(auths["items"][0]["recipient_id"], RECIPIENT);
    let disclosures = app
        .get(&format!("/v1/subjects/{S1}/disclosures"))
        .await
        .json();
    assert_eq!(disclosures["items"][0]["note"], "sent by post as well");
    assert_eq!(
        app.db.flag_evidence(S1, "marketing_partners").as_deref(),
        Some("letter of 2026-11-01")
    );
    let export = app.get(&format!("/v1/subjects/{S1}/export")).await;
    export.assert_status(200);
    assert_eq!(export.json()["subject"]["family_name"], "Tamm");

    // The stored answers are sealed too (under the subject's key, or the service's).
    let dump = crate::at_rest::pg_dump(&app.db);
    for clear in [
        "Mari",
        "49403136526",
        "letter of 2026-11-01",
        "sent by post",
        "married",
        "Partner\"}",
        "gone@example.ee",
        "moved away",
    ] {
        assert!(!dump.contains(clear), "{clear} left in clear");
    }
    // The upgraded service keeps working: a rectification of an upgraded record.
    let res = app
        .send(
            actix_web::test::TestRequest::patch()
                .uri(&format!("/v1/subjects/{S1}"))
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", app.token(&crate::harness::staff())),
                ))
                .insert_header(("If-Match", "\"2\""))
                .set_json(json!({"reason": "typo", "given_name": "Mari-Liis"})),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["email"], "mari@example.ee");
}

#[actix_web::test]
async fn the_clear_columns_are_not_dropped_while_a_clear_value_is_left() {
    let db = TestDb::empty();
    let mut conn = migrate_to_clear_schema(&db);
    conn.batch_execute(V1_DATA).unwrap();
    // The first step only, then the second run directly (not by the runner): it refuses.
    let pending = conn
        .pending_migrations(planpro_privacy::db::MIGRATIONS)
        .unwrap();
    conn.run_migration(&*pending[0]).unwrap();
    let err = conn.run_migration(&*pending[1]).unwrap_err().to_string();
    assert!(err.contains("still in clear"), "{err}");
    assert_eq!(
        db.count("SELECT 1 FROM subjects WHERE given_name IS NOT NULL"),
        2
    );
    // The runner continues from there.
    planpro_privacy::db::migrate(&mut conn).unwrap();
    assert!(planpro_privacy::db::migrations_current(&mut conn));
    assert_eq!(
        db.count("SELECT 1 FROM subjects WHERE given_name_enc IS NOT NULL"),
        2
    );
}
