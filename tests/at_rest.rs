//! Personal data at rest: nothing personal in a `pg_dump`, ciphertexts bound to their place,
//! rotation of the master key while the service serves, erasure by destroying the data key.

use crate::harness::{staff, test_config, TestApp, TestDb, DATA_KEY, DATA_KEY_PREVIOUS, SECRET};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine;
use planpro_privacy::at_rest::{self, Keyring};
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

/// Values that appear nowhere else: none may be found in a dump.
pub const DISTINCT: [&str; 16] = [
    "Zyxwvutsrq",
    "Qponmlkjih",
    "49403136526",
    "dump.unique@example.ee",
    "+3725559876",
    "Salajane tänav 77",
    "Peidulinn",
    "99887",
    "Allikas Dump OÜ",
    "ref-dump-4411",
    "attested-dump-5522",
    "Rectifiedname",
    "reason-dump-6633",
    "consent-evidence-dump-7744",
    "auth-evidence-dump-8855",
    "note-dump-9966",
];

fn key(b64: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .try_into()
        .unwrap()
}

/// A subject of distinctive values, created with an `Idempotency-Key` (so its answer is stored).
pub fn distinct_subject() -> Value {
    json!({
        "kind": "client",
        "given_name": DISTINCT[0],
        "family_name": DISTINCT[1],
        "personal_code": DISTINCT[2],
        "email": DISTINCT[3],
        "phone": DISTINCT[4],
        "address": {"street": DISTINCT[5], "city": DISTINCT[6], "postal_code": DISTINCT[7], "country": "EE"},
        "preferred_language": "et",
        "source": {"type": "third_party", "name": DISTINCT[8], "reference": DISTINCT[9],
                   "collected_at": "2026-11-01T10:00:00Z",
                   "lawful_collection_attestation": DISTINCT[10]}
    })
}

/// Fills the database through the API with every kind of personal value; the subject's id.
pub async fn fill(app: &TestApp) -> String {
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/subjects")
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("Idempotency-Key", "dump-create-1"))
                .set_json(distinct_subject()),
        )
        .await;
    res.assert_status(201);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .send(
            TestRequest::patch()
                .uri(&format!("/v1/subjects/{id}"))
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"reason": DISTINCT[12], "family_name": DISTINCT[11]})),
        )
        .await;
    res.assert_status(200);
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        &staff(),
        Some(json!({"status": "granted", "method": "letter", "evidence": DISTINCT[13]})),
    )
    .await
    .assert_status(200);
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "dpo@partner.ee"}),
        )
        .await;
    recipient.assert_status(201);
    let recipient = recipient.json()["id"].clone();
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": DISTINCT[14],
               "data_categories": ["identity", "contact"], "purpose": "service"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email",
               "note": DISTINCT[15]}),
    )
    .await
    .assert_status(201);
    id
}

/// The real `pg_dump` of a database, as text.
pub fn pg_dump(db: &TestDb) -> String {
    let out = std::process::Command::new("/usr/lib/postgresql/15/bin/pg_dump")
        .arg("--no-owner")
        .arg(format!("--dbname={}", db.url))
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a text dump")
}

#[actix_web::test]
async fn a_dump_of_the_database_holds_no_personal_value_in_clear() {
    let app = TestApp::spawn().await;
    let id = fill(&app).await;
    // Everything reads back through the API, so the values were stored.
    let export = app.get(&format!("/v1/subjects/{id}/export")).await.json();
    let text = export.to_string();
    for value in DISTINCT.iter().filter(|v| **v != DISTINCT[1]) {
        assert!(text.contains(value), "{value} missing from the export");
    }
    let dump = pg_dump(&app.db);
    assert!(
        dump.contains("COPY public.subjects"),
        "not a dump of the service's database"
    );
    for value in DISTINCT {
        assert!(!dump.contains(value), "{value} is in the dump in clear");
    }
    // Nor in JSON-escaped form (the stored answer of the create is JSON).
    assert!(!dump.contains("T\\u00e4nav") && !dump.contains("tänav"));
}

#[actix_web::test]
async fn a_value_moved_to_another_row_or_column_does_not_open() {
    let app = TestApp::spawn().await;
    let first = fill(&app).await;
    let mut other = distinct_subject();
    other["personal_code"] = json!("37605030004");
    let second = app.post("/v1/subjects", other).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first subject's e-mail ciphertext copied into its phone column, and into the second
    // subject's e-mail: neither opens there.
    app.db.exec(&format!(
        "UPDATE subjects SET phone_enc = email_enc WHERE id = '{first}';
         UPDATE subjects SET email_enc = (SELECT email_enc FROM subjects WHERE id = '{first}')
           WHERE id = '{second}'"
    ));
    let read = app.get(&format!("/v1/subjects/{first}")).await;
    read.assert_status(200);
    assert_eq!(read.json()["email"], DISTINCT[3]);
    assert!(read.json()["phone"].is_null());
    let read = app.get(&format!("/v1/subjects/{second}")).await;
    read.assert_status(200);
    assert!(read.json()["email"].is_null());
    // A wrapped data key copied to another subject does not open either: that is an error (a
    // key no master key opens), never another person's data.
    app.db.exec(&format!(
        "UPDATE subject_keys SET wrapped = (SELECT wrapped FROM subject_keys WHERE subject_id = '{first}')
           WHERE subject_id = '{second}'"
    ));
    let read = app.get(&format!("/v1/subjects/{second}")).await;
    assert!(read.status.is_server_error(), "{}", read.status);
    assert!(!read.json().to_string().contains(DISTINCT[0]));
}

#[actix_web::test]
async fn lookups_use_the_blind_index_and_a_shredded_subject_reads_as_absent() {
    let app = TestApp::spawn().await;
    let id = fill(&app).await;
    let by_code = app
        .get(&format!("/v1/subjects?personal_code={}", DISTINCT[2]))
        .await
        .json();
    assert_eq!(by_code["items"][0]["id"], id.as_str());
    let by_email = app
        .get("/v1/subjects?email=DUMP.unique@EXAMPLE.ee")
        .await
        .json();
    assert_eq!(
        by_email["items"].as_array().unwrap().len(),
        0,
        "the local part is kept as typed"
    );
    let by_email = app
        .get("/v1/subjects?email=dump.unique@EXAMPLE.ee")
        .await
        .json();
    assert_eq!(by_email["items"][0]["id"], id.as_str());
    // Crypto-shredding: the key goes, the rows stay, the values read as absent.
    let rows_before = app.db.count(&format!(
        "SELECT 1 FROM rectifications WHERE subject_id = '{id}' UNION ALL \
         SELECT 1 FROM consent_events WHERE subject_id = '{id}' UNION ALL \
         SELECT 1 FROM disclosures WHERE subject_id = '{id}'"
    ));
    at_rest::shred_subject(&mut app.db.conn(), Uuid::parse_str(&id).unwrap().into()).unwrap();
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subject_keys WHERE subject_id = '{id}'"
        )),
        0
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subjects WHERE id = '{id}' AND num_nonnulls(given_name_enc, \
             personal_code_enc, email_enc, personal_code_bidx, email_bidx) = 0 \
             AND erased_at IS NOT NULL"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM rectifications WHERE subject_id = '{id}' UNION ALL \
             SELECT 1 FROM consent_events WHERE subject_id = '{id}' UNION ALL \
             SELECT 1 FROM disclosures WHERE subject_id = '{id}'"
        )),
        rows_before
    );
    let history = app.db.rectifications(&id);
    assert!(history
        .iter()
        .all(|r| r.new_value.is_none() && r.reason.is_empty()));
    assert!(app
        .db
        .consent_events(&id)
        .iter()
        .all(|e| e.evidence.is_none()));
    // The personal code is free again.
    app.post("/v1/subjects", distinct_subject())
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn rotation_rewraps_every_key_while_reads_go_on() {
    let app = TestApp::spawn().await;
    let id = fill(&app).await;
    for n in 0..30 {
        let mut body = distinct_subject();
        body["personal_code"] = json!(null);
        body["given_name"] = json!(format!("Rotated {n}"));
        app.post("/v1/subjects", body).await.assert_status(201);
    }
    let (test, previous) = (key(DATA_KEY), key(DATA_KEY_PREVIOUS));
    let to_previous = Keyring::new(&previous, Some(&test));
    let back = Keyring::new(&test, Some(&previous));
    let url = app.db.url.clone();
    // Rotate to the previous key (which this service also holds) while reading.
    let rotation = std::thread::spawn(move || {
        let mut conn = diesel::Connection::establish(&url).unwrap();
        at_rest::rotate::rotate(&mut conn, &to_previous).unwrap()
    });
    for _ in 0..10 {
        let read = app.get(&format!("/v1/subjects/{id}")).await;
        read.assert_status(200);
        assert_eq!(read.json()["given_name"], DISTINCT[0]);
    }
    let done = rotation.join().unwrap();
    assert_eq!(done.subject_keys, 31);
    assert_eq!(done.service_keys, 2);
    let to_previous = Keyring::new(&previous, Some(&test));
    let mut conn = app.db.conn();
    assert_eq!(
        at_rest::rotate::remaining(&mut conn, &to_previous).unwrap(),
        0
    );
    assert_eq!(at_rest::rotate::remaining(&mut conn, &back).unwrap(), 33);
    // The service opens keys wrapped by its previous key, and the blind index still matches.
    let read = app.get(&format!("/v1/subjects/{id}/export")).await;
    read.assert_status(200);
    assert_eq!(read.json()["consent_history"][0]["evidence"], DISTINCT[13]);
    let found = app
        .get(&format!("/v1/subjects?personal_code={}", DISTINCT[2]))
        .await
        .json();
    assert_eq!(found["items"][0]["id"], id.as_str());

    // Back under the current key with the command itself; a second run finds nothing to do.
    let run = || {
        std::process::Command::new(BIN)
            .arg("rotate-data-key")
            .env_clear()
            .env("DATABASE_URL", &app.db.url)
            .env("DATA_KEY", DATA_KEY)
            .env("DATA_KEY_PREVIOUS", DATA_KEY_PREVIOUS)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "re-wrapped 31 subject key(s) and 2 service key(s); 0 left under another master key"
    );
    let out = run();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("re-wrapped 0 subject key(s) and 0"));
    assert_eq!(at_rest::rotate::remaining(&mut conn, &back).unwrap(), 0);
    app.get(&format!("/v1/subjects/{id}"))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn rotation_refuses_keys_no_master_key_opens_and_names_missing_variables() {
    let app = TestApp::spawn().await;
    fill(&app).await;
    let stranger = Keyring::new(&[9; 32], Some(&[8; 32]));
    let err = at_rest::rotate::rotate(&mut app.db.conn(), &stranger).unwrap_err();
    assert!(at_rest::upgrade::describe(err).contains("DATA_KEY_PREVIOUS"));
    let out = std::process::Command::new(BIN)
        .arg("rotate-data-key")
        .env_clear()
        .env("DATABASE_URL", &app.db.url)
        .env("DATA_KEY", DATA_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATA_KEY_PREVIOUS"), "{stderr}");
    let out = std::process::Command::new(BIN)
        .arg("rotate-data-key")
        .env_clear()
        .env("DATABASE_URL", &app.db.url)
        .env("DATA_KEY", "bm90LTMyLWJ5dGVz")
        .env("DATA_KEY_PREVIOUS", DATA_KEY_PREVIOUS)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATA_KEY:") && !stderr.contains("bm90LTMyLWJ5dGVz"),
        "{stderr}"
    );
}

#[actix_web::test]
async fn the_service_does_not_start_without_a_data_key_on_an_external_database() {
    let db = TestDb::new();
    let mut env: Vec<(String, String)> = crate::harness::test_env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("DATA_KEY"))
        .collect();
    env.push(("DATABASE_URL".into(), db.url.clone()));
    env.push(("BIND_ADDR".into(), "127.0.0.1:0".into()));
    let out = std::process::Command::new(BIN)
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATA_KEY (or DATA_KEY_FILE): required"),
        "{stderr}"
    );
    // The same configuration with a key starts (checked in-process here).
    let config = test_config(&db.url);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    app.get("/v1/subjects").await.assert_status(200);
}
