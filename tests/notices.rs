//! Notices to recipients (Art. 19): queued in the change's transaction, delivered to real HTTP
//! receivers on loopback with Standard Webhooks signatures, retried, disabled by 410, handed to
//! staff as manual notices; and webhook registration's URL rule.

use crate::harness::{staff, test_config, Resp, TestApp, TestDb};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine;
use hmac::Mac;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A webhook receiver on loopback: answers each request with the next status of `script`
/// (the last one repeats), keeps what it got.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = got.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                kept.lock().unwrap().push(request);
                let status = *script.get(n).or(script.last()).unwrap_or(&200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Self { url, got }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

pub fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        headers,
        body: String::from_utf8_lossy(&data[head_end..]).to_string(),
    })
}

/// Verifies a `webhook-signature` header against a secret the way a receiver library does.
pub fn signed_by(received: &Received, secret: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            received.header("webhook-id"),
            received.header("webhook-timestamp"),
            received.body
        )
        .as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    received
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

fn mari() -> Value {
    json!({
        "kind": "client", "given_name": "Mari", "family_name": "Maasikas",
        "personal_code": "49403136526", "email": "mari@example.ee", "phone": "+3725551234",
        "address": {"street": "Pikk 1-2", "city": "Tallinn", "postal_code": "10123", "country": "EE"},
        "preferred_language": "et", "source": {"type": "data_subject"}
    })
}

/// A subject, a recipient that received its identity and contact data from staff, and the
/// recipient's webhook at `url` (none when `None`); returns (subject, recipient, secret).
pub async fn arrange(app: &TestApp, url: Option<&str>) -> (String, String, Option<String>) {
    let subject = app.post("/v1/subjects", mari()).await;
    subject.assert_status(201);
    let subject = subject.json()["id"].as_str().unwrap().to_owned();
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await;
    recipient.assert_status(201);
    let recipient = recipient.json()["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent",
               "consent_evidence": "form 1", "data_categories": ["identity", "contact"],
               "purpose": "offers"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity", "contact"],
               "channel": "email"}),
    )
    .await
    .assert_status(201);
    let mut secret = None;
    if let Some(url) = url {
        let hook = app
            .post(
                &format!("/v1/recipients/{recipient}/webhooks"),
                json!({ "url": url }),
            )
            .await;
        hook.assert_status(201);
        let s = hook.json()["secret"].as_str().unwrap().to_owned();
        assert!(s.starts_with("whsec_"));
        secret = Some(s);
    }
    (subject, recipient, secret)
}

pub async fn rectify(app: &TestApp, subject: &str, body: Value) -> Resp {
    let version = app.db.scalar(&format!(
        "SELECT version FROM subjects WHERE id = '{subject}'"
    ));
    app.send(
        TestRequest::patch()
            .uri(&format!("/v1/subjects/{subject}"))
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("If-Match", format!("\"{version}\"")))
            .set_json(body),
    )
    .await
}

/// Waits until `check` holds (polling), at most 10 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        actix_rt::time::sleep(Duration::from_millis(25)).await;
    }
}

#[actix_web::test]
async fn a_rectification_is_delivered_signed_and_without_personal_values() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(vec![200]);
    let (subject, recipient, secret) = arrange(&app, Some(&receiver.url)).await;
    // A change to no category sends nothing.
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "preferred_language": "en"}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.db.count("SELECT 1 FROM notices"), 0);
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "email": "mari@uus.ee", "family_name": "Mustikas",
               "address": {"city": "Tartu"}}),
    )
    .await
    .assert_status(200);
    let started = Instant::now();
    eventually("delivery", || receiver.requests().len() == 1).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let got = &receiver.requests()[0];
    assert!(signed_by(got, secret.as_deref().unwrap()), "{got:?}");
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["type"], "subject.rectified");
    assert_eq!(body["data"]["subject_id"], subject.as_str());
    assert_eq!(body["data"]["recipient_id"], recipient.as_str());
    // Address changed too, but this recipient never received it.
    assert_eq!(body["data"]["categories"], json!(["identity", "contact"]));
    for value in ["Mari", "Mustikas", "Maasikas", "mari@", "Tartu", "4940313"] {
        assert!(!got.body.contains(value), "{value} in {}", got.body);
    }
    let notice_id = got.header("webhook-id");
    eventually("delivered", || {
        app.db.scalar(&format!(
            "SELECT status FROM notices WHERE id = '{notice_id}'"
        )) == "delivered"
    })
    .await;
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'notification.send'"),
        1
    );
    // Delivered: nothing to acknowledge.
    app.post(
        &format!("/v1/notifications/{notice_id}/acknowledge"),
        json!({"note": "x"}),
    )
    .await
    .assert_problem(409, "conflict");
    let listed = app
        .get(&format!(
            "/v1/notifications?subject_id={subject}&status=delivered"
        ))
        .await;
    listed.assert_status(200);
    assert_eq!(listed.json()["items"][0]["id"], notice_id.as_str());
    assert_eq!(listed.json()["items"][0]["attempts"], 1);
    let export = app
        .get(&format!("/v1/subjects/{subject}/export"))
        .await
        .json();
    assert_eq!(export["notifications"][0]["status"], "delivered");

    // After a rotation both secrets sign, for 24 hours.
    let wid = app.db.scalar("SELECT id FROM webhooks");
    let rotated = app
        .post(
            &format!("/v1/recipients/{recipient}/webhooks/{wid}/rotate-secret"),
            json!({}),
        )
        .await;
    rotated.assert_status(200);
    let new_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    eventually("second delivery", || receiver.requests().len() == 2).await;
    let got = &receiver.requests()[1];
    assert_eq!(got.header("webhook-signature").split(' ').count(), 2);
    assert!(signed_by(got, secret.as_deref().unwrap()));
    assert!(signed_by(got, &new_secret));
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["data"]["categories"], json!(["identity"]));
    // Once the overlap is over only the new one signs.
    app.db
        .exec("UPDATE webhooks SET previous_until = now() - interval '1 second'");
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Mari"}),
    )
    .await
    .assert_status(200);
    eventually("third delivery", || receiver.requests().len() == 3).await;
    let got = &receiver.requests()[2];
    assert_eq!(got.header("webhook-signature").split(' ').count(), 1);
    assert!(signed_by(got, &new_secret));
    assert!(!signed_by(got, secret.as_deref().unwrap()));
}

#[actix_web::test]
async fn a_failing_receiver_gets_retries_with_the_same_id_and_a_410_disables_it() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(vec![500, 200, 410]);
    let (subject, recipient, _) = arrange(&app, Some(&receiver.url)).await;
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    eventually("first attempt", || {
        app.db
            .scalar("SELECT coalesce(last_status, 0) FROM notices")
            == "500"
    })
    .await;
    let due: f64 = app
        .db
        .scalar("SELECT extract(epoch FROM next_attempt_at - last_attempt_at) FROM notices")
        .parse()
        .unwrap();
    assert!((4.4..=5.6).contains(&due), "retried after {due} s");
    // The schedule's wait, skipped.
    app.db.exec("UPDATE notices SET next_attempt_at = now()");
    eventually("redelivery", || {
        app.db.scalar("SELECT status FROM notices") == "delivered"
    })
    .await;
    let got = receiver.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(app.db.scalar("SELECT attempts FROM notices"), "2");
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'notification.send'"),
        2
    );

    // The next notice meets a 410: the webhook is disabled and its notices become manual.
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_partners"),
        &staff(),
        Some(json!({"status": "withdrawn", "method": "email"})),
    )
    .await
    .assert_status(200);
    eventually("disabled", || {
        app.db.scalar("SELECT status FROM webhooks") == "disabled"
    })
    .await;
    let manual = app
        .get(&format!(
            "/v1/notifications?recipient_id={recipient}&status=manual"
        ))
        .await
        .json();
    let item = &manual["items"][0];
    assert_eq!(item["type"], "consent.withdrawn");
    assert_eq!(item["purpose"], "marketing_partners");
    let hooks = app
        .get(&format!("/v1/recipients/{recipient}/webhooks"))
        .await
        .json();
    assert_eq!(hooks["items"][0]["status"], "disabled");
    assert!(hooks["items"][0].get("secret").is_none());
    // Staff tell the recipient another way.
    let id = item["id"].as_str().unwrap();
    app.post(
        &format!("/v1/notifications/{id}/acknowledge"),
        json!({"note": "by letter"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get(&format!("/v1/notifications/{id}")).await.json()["status"],
        "acknowledged"
    );
    app.post(&format!("/v1/notifications/{id}/retry"), json!({}))
        .await
        .assert_problem(409, "conflict");
    // No further request reached the receiver.
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 3);
}

#[actix_web::test]
async fn a_receiver_down_for_a_while_gets_the_notice_once_it_is_back() {
    let app = TestApp::spawn().await;
    // A port nobody listens on yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (subject, _, secret) = arrange(&app, Some(&url)).await;
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "phone": "+3725559999"}),
    )
    .await
    .assert_status(200);
    eventually("failed attempt", || {
        !app.db
            .scalar("SELECT coalesce(last_error, '') FROM notices")
            .is_empty()
    })
    .await;
    assert_eq!(app.db.scalar("SELECT status FROM notices"), "pending");
    // Every attempt up to the last: dead.
    app.db
        .exec("UPDATE notices SET attempts = 7, next_attempt_at = now()");
    eventually("dead", || {
        app.db.scalar("SELECT status FROM notices") == "dead"
    })
    .await;
    // The receiver is back; staff retry the dead notice.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = Arc::new(Mutex::new(None));
    let kept = got.clone();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        *kept.lock().unwrap() = read_request(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    });
    let id = app.db.scalar("SELECT id FROM notices");
    app.post(&format!("/v1/notifications/{id}/retry"), json!({}))
        .await
        .assert_status(202);
    eventually("delivered", || {
        app.db.scalar("SELECT status FROM notices") == "delivered"
    })
    .await;
    let got = got.lock().unwrap().clone().unwrap();
    assert_eq!(got.header("webhook-id"), id);
    assert!(signed_by(&got, secret.as_deref().unwrap()));
}

#[actix_web::test]
async fn a_recipient_without_a_webhook_gets_manual_notices_and_refused_changes_queue_nothing() {
    let app = TestApp::spawn().await;
    let (subject, recipient, _) = arrange(&app, None).await;
    // A refused rectification (a bad e-mail) queues nothing.
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "email": "not an address"}),
    )
    .await
    .assert_status(400);
    assert_eq!(app.db.count("SELECT 1 FROM notices"), 0);
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_planpro"),
        &staff(),
        Some(json!({"status": "withdrawn", "method": "email"})),
    )
    .await
    .assert_status(200);
    let page = app
        .get(&format!("/v1/notifications?recipient_id={recipient}"))
        .await
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["status"], "manual");
    assert_eq!(page["items"][0]["type"], "consent.withdrawn");
    assert_eq!(page["items"][0]["purpose"], "marketing_planpro");
    // Notice ids are UUID v7, as the contract's ids are (time-ordered).
    let id: uuid::Uuid = page["items"][0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id.get_version_num(), 7, "{id}");
    let made = id.get_timestamp().unwrap().to_unix().0 as i64;
    assert!((chrono::Utc::now().timestamp() - made).abs() < 60, "{id}");
    let metrics = String::from_utf8(app.get("/metrics").await.body).unwrap();
    assert!(metrics.contains("notices_manual 1"), "{metrics}");
    assert!(metrics.contains("notices_pending 0"), "{metrics}");
    assert!(
        metrics.contains("notices_oldest_pending_age_seconds 0"),
        "{metrics}"
    );
    // A granted consent tells nobody.
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_planpro"),
        &staff(),
        Some(json!({"status": "granted", "method": "email"})),
    )
    .await
    .assert_status(200);
    assert_eq!(app.db.count("SELECT 1 FROM notices"), 1);
    let id = page["items"][0]["id"].as_str().unwrap();
    let bad = app
        .post(
            &format!("/v1/notifications/{id}/acknowledge"),
            json!({"note": " "}),
        )
        .await;
    bad.assert_status(400);
    assert_eq!(bad.bad_fields(), ["note"]);
    // Only with the scope.
    app.call(
        Method::GET,
        "/v1/notifications",
        &[planpro_privacy::auth::Scope::SubjectsRead],
        None,
    )
    .await
    .assert_problem(403, "insufficient-scope");
}

#[actix_web::test]
async fn webhook_urls_must_be_https_and_public_and_rotation_signs_twice() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.webhook_allow_private = false;
    let app = TestApp::on(
        db,
        &config,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .await;
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/recipients/{recipient}/webhooks");
    for url in [
        "http://8.8.8.8/hook",
        "not a url",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
    ] {
        let res = app.post(&path, json!({ "url": url })).await;
        res.assert_status(400);
        assert_eq!(res.bad_fields(), ["url"], "{url}");
    }
    assert_eq!(app.db.count("SELECT 1 FROM webhooks"), 0);
    let made = app
        .post(&path, json!({"url": "https://8.8.8.8/hook"}))
        .await;
    made.assert_status(201);
    let made = made.json();
    let first = made["secret"].as_str().unwrap().to_owned();
    // Stored sealed: the secret's text is nowhere in the table.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM webhooks WHERE position(convert_to('{first}', 'UTF8') IN secret) > 0"
        )),
        0
    );
    let wid = made["id"].as_str().unwrap();
    let rotated = app
        .post(&format!("{path}/{wid}/rotate-secret"), json!({}))
        .await;
    rotated.assert_status(200);
    let second = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(rotated.json()["previous_secret_until"].is_string());
    app.call(Method::DELETE, &format!("{path}/{wid}"), &staff(), None)
        .await
        .assert_status(204);
    // Gone from the list, its secrets destroyed; a second delete finds nothing.
    assert_eq!(app.get(&path).await.json()["items"], json!([]));
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM webhooks WHERE length(secret) > 0 OR previous_secret IS NOT NULL"
        ),
        0
    );
    app.call(Method::DELETE, &format!("{path}/{wid}"), &staff(), None)
        .await
        .assert_problem(404, "not-found");
}

/// The JSON body of a raw response.
fn body_of(text: &str) -> Value {
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

#[test]
fn a_notice_cut_short_by_kill_9_is_sent_again_with_the_same_webhook_id() {
    use crate::process::{http, Server};
    let db = TestDb::new();
    // The receiver takes the first request and never answers it; later ones get 200.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (got_tx, got_rx) = std::sync::mpsc::channel::<Received>();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            let _ = got_tx.send(request);
            if n == 0 {
                held.push(stream);
            } else {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    let mut server = Server::start(&db);
    let token = crate::harness::token_for("kill-tester", &staff(), None);
    let auth = format!("Bearer {token}");
    let json_headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let post = |server: &Server, path: &str, body: Value| {
        let (status, text) = http(server.addr, "POST", path, &json_headers, &body.to_string());
        assert_eq!(status, 201, "{path}: {text}");
        body_of(&text)["id"].as_str().unwrap().to_owned()
    };
    let subject = post(&server, "/v1/subjects", mari());
    let recipient = post(
        &server,
        "/v1/recipients",
        json!({"name": "Partner OÜ", "category": "platform_service_provider",
               "contact_email": "privacy@partner.ee"}),
    );
    post(
        &server,
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": "form",
               "data_categories": ["identity"], "purpose": "offers"}),
    );
    post(
        &server,
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email"}),
    );
    post(
        &server,
        &format!("/v1/recipients/{recipient}/webhooks"),
        json!({ "url": url }),
    );
    let patch_headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("If-Match", "\"1\""),
    ];
    let (status, text) = http(
        server.addr,
        "PATCH",
        &format!("/v1/subjects/{subject}"),
        &patch_headers,
        &json!({"reason": "asked", "given_name": "Maria"}).to_string(),
    );
    assert_eq!(status, 200, "{text}");
    let first = got_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the first POST");
    // The POST reached the receiver; the service dies before it hears back.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(db.scalar("SELECT status FROM notices"), "pending");
    assert_eq!(db.scalar("SELECT attempts FROM notices"), "1");
    // Its lease would run out in a minute; the test does not wait for it.
    db.exec("UPDATE notices SET lease_until = now() - interval '1 second'");
    let _again = Server::start(&db);
    let second = got_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a redelivery");
    assert_eq!(second.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(second.body, first.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.scalar("SELECT status FROM notices") != "delivered" {
        assert!(Instant::now() < deadline, "not marked delivered");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(db.scalar("SELECT attempts FROM notices"), "2");
}

#[actix_web::test]
async fn the_address_is_checked_again_at_every_attempt() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.webhook_allow_private = false;
    let app = TestApp::on(
        db,
        &config,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .await;
    let receiver = Receiver::start(vec![200]);
    let (subject, _, _) = arrange(&app, Some("https://8.8.8.8/hook")).await;
    // The name now leads somewhere else (as a changed DNS answer would): to loopback.
    app.db
        .exec(&format!("UPDATE webhooks SET url = '{}'", receiver.url));
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    eventually("refused attempt", || {
        app.db
            .scalar("SELECT coalesce(last_error, '') FROM notices")
            == "address refused"
    })
    .await;
    assert_eq!(app.db.scalar("SELECT status FROM notices"), "pending");
    assert!(receiver.requests().is_empty());
}

#[actix_web::test]
async fn two_instances_never_send_one_notice_twice() {
    let app = TestApp::spawn().await;
    // A second instance on the same database: its own worker, claiming from the same outbox.
    let other = planpro_privacy::AppState::new(
        &test_config(&app.db.url),
        &app.db.url,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .unwrap();
    let receiver = Receiver::start(vec![200]);
    let (_, recipient, _) = arrange(&app, Some(&receiver.url)).await;
    app.db.exec(&format!(
        "INSERT INTO subjects (id, version, kind, source_type, created_at, updated_at) \
         SELECT gen_random_uuid(), 1, 'client', 'data_subject', now(), now() \
         FROM generate_series(1, 300) n; \
         INSERT INTO notices (id, recipient_id, subject_id, type, purpose, webhook_id, status, next_attempt_at, created_at) \
         SELECT gen_random_uuid(), '{recipient}', s.id, 'consent.withdrawn', 'p', \
           (SELECT id FROM webhooks), 'pending', now(), now() FROM subjects s"
    ));
    planpro_privacy::notices::wake();
    eventually("every notice delivered", || {
        app.db
            .count("SELECT 1 FROM notices WHERE status = 'delivered'")
            == 301
    })
    .await;
    let ids: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.header("webhook-id"))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 301);
    assert_eq!(distinct.len(), 301, "a notice was sent twice");
    other.shutdown();
}

#[actix_web::test]
async fn deleting_a_webhook_hands_its_waiting_notices_to_staff() {
    let app = TestApp::spawn().await;
    // A receiver that is down: the notice waits for its retry.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (subject, recipient, _) = arrange(&app, Some(&url)).await;
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "email": "mari@uus.ee"}),
    )
    .await
    .assert_status(200);
    eventually("failed attempt", || {
        !app.db
            .scalar("SELECT coalesce(last_error, '') FROM notices")
            .is_empty()
    })
    .await;
    let wid = app.db.scalar("SELECT id FROM webhooks");
    app.call(
        Method::DELETE,
        &format!("/v1/recipients/{recipient}/webhooks/{wid}"),
        &staff(),
        None,
    )
    .await
    .assert_status(204);
    assert_eq!(app.db.scalar("SELECT status FROM notices"), "manual");
    // A notice queued to it at the same moment (its transaction saw the webhook still active)
    // is handed to staff when the worker claims it, and nothing is sent.
    app.db.exec(&format!(
        "INSERT INTO notices (id, recipient_id, subject_id, type, purpose, webhook_id, status, \
         next_attempt_at, created_at) VALUES (gen_random_uuid(), '{recipient}', '{subject}', \
         'consent.withdrawn', 'p', '{wid}', 'pending', now(), now())"
    ));
    planpro_privacy::notices::wake();
    eventually("manual", || {
        app.db
            .count("SELECT 1 FROM notices WHERE status = 'manual'")
            == 2
    })
    .await;
}

#[actix_web::test]
async fn a_keyed_withdrawal_queues_its_notice_once() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = arrange(&app, None).await;
    let withdraw = || {
        TestRequest::put()
            .uri(&format!(
                "/v1/subjects/{subject}/consents/marketing_partners"
            ))
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", "withdraw-1"))
            .set_json(json!({"status": "withdrawn", "method": "email"}))
    };
    app.send(withdraw()).await.assert_status(200);
    let again = app.send(withdraw()).await;
    again.assert_status(200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        app.db
            .count("SELECT 1 FROM notices WHERE type = 'consent.withdrawn' AND status = 'manual'"),
        1
    );
}

#[actix_web::test]
async fn restriction_lift_and_erasure_tell_every_recipient_once() {
    let app = TestApp::spawn().await;
    let (subject, recipient, _) = arrange(&app, None).await;
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/marketing_partners"),
        &staff(),
        Some(json!({"status": "granted", "method": "email"})),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/subjects/{subject}/restriction"),
        json!({"ground": "accuracy_contested", "reason": "the address is contested"}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/subjects/{subject}/restriction/lift"),
        json!({"reason": "the address was verified"}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked for by the person"}),
    )
    .await
    .assert_status(200);
    let types = app.db.scalar(&format!(
        "SELECT string_agg(type || ':' || status, ',' ORDER BY seq) FROM notices \
         WHERE recipient_id = '{recipient}' AND subject_id = '{subject}'"
    ));
    assert_eq!(
        types,
        "subject.restricted:manual,subject.restriction_lifted:manual,subject.erased:manual"
    );
}

#[actix_web::test]
async fn webhook_secrets_keep_signing_after_the_master_key_is_rotated() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(vec![200]);
    let (subject, _recipient, secret) = arrange(&app, Some(&receiver.url)).await;
    let secret = secret.unwrap();
    let sealed_before = app.db.scalar("SELECT encode(secret, 'hex') FROM webhooks");
    // The service holds both keys; the rotation re-wraps the service keys under the other one.
    let decode = |b64: &str| -> [u8; 32] {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
            .try_into()
            .unwrap()
    };
    let (current, previous) = (
        decode(crate::harness::DATA_KEY),
        decode(crate::harness::DATA_KEY_PREVIOUS),
    );
    let to_previous = planpro_privacy::at_rest::Keyring::new(&previous, Some(&current));
    let done = planpro_privacy::at_rest::rotate::rotate(&mut app.db.conn(), &to_previous).unwrap();
    assert_eq!(done.service_keys, 2);
    // The sealed secret itself is untouched: only the key under it was re-wrapped.
    assert_eq!(
        app.db.scalar("SELECT encode(secret, 'hex') FROM webhooks"),
        sealed_before
    );
    assert!(!sealed_before.contains(&hex(secret.as_bytes())));
    // It is a service secret: it opens through the key the rotation re-wrapped.
    let wid: uuid::Uuid = app.db.scalar("SELECT id FROM webhooks").parse().unwrap();
    let sealed = (0..sealed_before.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&sealed_before[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    let opened = planpro_privacy::at_rest::open_service_secret(
        &mut app.db.conn(),
        "webhooks.secret",
        wid.as_bytes(),
        &sealed,
    )
    .unwrap()
    .expect("the secret opens as a service secret");
    assert_eq!(opened.as_slice(), secret.as_bytes());
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "given_name": "Maria"}),
    )
    .await
    .assert_status(200);
    eventually("delivery", || receiver.requests().len() == 1).await;
    assert!(signed_by(&receiver.requests()[0], &secret));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
