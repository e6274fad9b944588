//! Access-log coverage of the operations a link's one-time token calls without a bearer token
//! (contract v3: actor `link:download` / `link:confirmation`). They have no scope to refuse, so
//! `tests/log_coverage.rs` builds no call for them; it counts them as covered by
//! [`LINK_OPERATIONS`], and the test here calls each one allowed and refused and checks the entry
//! of every call about a known token, and that an unknown token writes none.

use crate::consent_versions::{add_version, insert_subject, put, version, PARTNERS};
use crate::harness::TestApp;
use actix_web::test::TestRequest;
use serde_json::{json, Value};
use uuid::Uuid;

/// `(method, template, action)` of every link operation.
pub const LINK_OPERATIONS: [(&str, &str, &str); 3] = [
    ("POST", "/v1/consents/confirmations/purpose", "consent.read"),
    ("POST", "/v1/consents/confirmations", "consent.confirm"),
    ("POST", "/v1/downloads/{token}", "download.read"),
];

/// Calls `template` with the link's token and answers the status and the call's entries as
/// `actor action outcome subject purpose recipient`.
async fn call(app: &TestApp, template: &str, token: &str) -> (u16, Vec<String>) {
    let request_id = format!("link-{}", Uuid::now_v7().simple());
    let req = if template == "/v1/downloads/{token}" {
        TestRequest::post().uri(&template.replace("{token}", token))
    } else {
        TestRequest::post()
            .uri(template)
            .set_json(json!({ "token": token }))
    };
    let res = app
        .send(
            req.insert_header(("X-Request-Id", request_id.as_str()))
                .insert_header(("X-Access-Purpose", "a link's purpose is never taken")),
        )
        .await;
    let entries = app.db.scalar(&format!(
        "SELECT coalesce(string_agg(concat_ws(' ', actor, action, outcome, \
           coalesce(subject_id::text, '-'), coalesce(purpose, '-'), \
           coalesce(recipient_id::text, '-')), ',' ORDER BY seq), '') \
         FROM access_log WHERE request_id = '{request_id}'"
    ));
    let entries = entries
        .split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    (res.status.as_u16(), entries)
}

#[actix_web::test]
async fn every_use_of_a_known_link_token_is_logged_allowed_or_denied_and_no_other() {
    let app = TestApp::spawn().await;
    add_version(
        &app,
        PARTNERS,
        Some("\"1\""),
        version(false, json!({"confirmation": "double_opt_in"})),
    )
    .await
    .assert_status(201);
    let subject = insert_subject(&app);
    let granted = put(
        &app,
        subject,
        PARTNERS,
        json!({"status": "granted", "method": "web_form"}),
    )
    .await;
    granted.assert_status(200);
    let confirmation = granted.json()["confirmation_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let request: Value = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "access", "subject_id": subject, "channel": "email",
                   "received_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
        )
        .await
        .json();
    let frozen = app
        .post(
            &format!(
                "/v1/privacy-requests/{}/access-response",
                request["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    frozen.assert_status(201);
    let download = frozen.json()["download_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/v1/downloads/")
        .to_owned();

    let mut problems = Vec::new();
    // In order: the purpose is read while the grant waits, the grant is confirmed, and then
    // the spent token is refused by both; the download is used, then refused.
    for (template, action, token, status, outcome) in [
        (
            LINK_OPERATIONS[0].1,
            "consent.read",
            &confirmation,
            200,
            "allowed",
        ),
        (
            LINK_OPERATIONS[1].1,
            "consent.confirm",
            &confirmation,
            200,
            "allowed",
        ),
        (
            LINK_OPERATIONS[1].1,
            "consent.confirm",
            &confirmation,
            410,
            "denied",
        ),
        (
            LINK_OPERATIONS[0].1,
            "consent.read",
            &confirmation,
            410,
            "denied",
        ),
        (
            LINK_OPERATIONS[2].1,
            "download.read",
            &download,
            200,
            "allowed",
        ),
        (
            LINK_OPERATIONS[2].1,
            "download.read",
            &download,
            410,
            "denied",
        ),
    ] {
        let actor = if action == "download.read" {
            "link:download"
        } else {
            "link:confirmation"
        };
        let (got, entries) = call(&app, template, token).await;
        let wanted = vec![format!("{actor} {action} {outcome} {subject} - -")];
        if got != status || entries != wanted {
            problems.push(format!(
                "POST {template} ({outcome}): answered {got}, wanted {status}; entries \
                 {entries:?}, wanted {wanted:?}"
            ));
        }
        // An unknown token of the right form is 404 and written nowhere.
        let (got, entries) = call(&app, template, &"Q".repeat(43)).await;
        if got != 404 || !entries.is_empty() {
            problems.push(format!(
                "POST {template} with an unknown token: {got}, entries {entries:?}"
            ));
        }
    }
    for (method, template, action) in LINK_OPERATIONS {
        assert!(
            planpro_privacy::access_log::Action::parse(action).is_some(),
            "{method} {template}: no action `{action}`"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
