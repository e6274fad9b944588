//! A receiver that accepts connections and never answers holds back only its own recipient's
//! notices: with 1,000 of them queued, another recipient's notice is attempted within 2 s of its
//! commit.

use crate::harness::TestApp;
use crate::notices::{arrange, eventually, rectify, Receiver};
use serde_json::json;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A loopback listener that accepts every connection and keeps it open without a word.
fn black_hole() -> (String, Arc<Mutex<Vec<TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let kept = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            kept.lock().unwrap().push(stream);
        }
    });
    (url, held)
}

#[actix_web::test]
async fn a_silent_receiver_with_1000_notices_does_not_delay_another_recipient() {
    let app = TestApp::spawn().await;
    let healthy = Receiver::start(vec![200]);
    let (subject, _, _) = arrange(&app, Some(&healthy.url)).await;
    let (silent_url, held) = black_hole();
    let silent = app
        .post(
            "/v1/recipients",
            json!({"name": "Vaikne OÜ", "category": "platform_service_provider",
                   "contact_email": "dpo@vaikne.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hook = app
        .post(
            &format!("/v1/recipients/{silent}/webhooks"),
            json!({ "url": silent_url }),
        )
        .await;
    hook.assert_status(201);
    let hook = hook.json()["id"].as_str().unwrap().to_owned();
    // 1,000 due notices about 1,000 subjects (so all are due at once, none waits for an older
    // one about the same subject), older than anything the healthy recipient gets.
    app.db.exec(&format!(
        "INSERT INTO subjects SELECT (jsonb_populate_record(NULL::subjects, to_jsonb(s) \
           || jsonb_build_object('id', gen_random_uuid(), 'personal_code_bidx', NULL))).* \
         FROM subjects s, generate_series(1, 1000) WHERE s.id = '{subject}';
         INSERT INTO notices (id, recipient_id, subject_id, type, categories, webhook_id, status, \
           next_attempt_at, created_at) \
         SELECT gen_random_uuid(), '{silent}', s.id, 'subject.rectified', '{{identity}}', \
           '{hook}', 'pending', now() - interval '1 minute', now() - interval '1 minute' \
         FROM subjects s WHERE s.id <> '{subject}'"
    ));
    planpro_privacy::notices::wake();
    // The silent receiver is given its attempts (and holds them) before the healthy notice.
    eventually("the silent receiver holds connections", || {
        !held.lock().unwrap().is_empty()
    })
    .await;
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    let committed = Instant::now();
    eventually("the healthy notice", || !healthy.requests().is_empty()).await;
    let waited = committed.elapsed();
    eprintln!("healthy notice attempted {waited:?} after its commit");
    assert!(
        waited < Duration::from_secs(2),
        "attempted after {waited:?}"
    );
    let held = held.lock().unwrap().len();
    assert!(
        (1..=planpro_privacy::notices::lanes::PER_RECIPIENT).contains(&held),
        "the silent receiver got {held} connections at once"
    );
}
