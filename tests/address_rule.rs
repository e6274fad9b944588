//! The webhook address rule against IPv6 forms that embed a refused IPv4 address and the
//! benchmarking range: refused at registration (400 naming `url`) and at every attempt, where the
//! real outgoing client refuses the address before it connects.

use crate::harness::{test_config, TestApp, TestDb};
use planpro_privacy::config::{JwtKey, Secret};
use planpro_privacy::http_client::{ClientOptions, HttpClient, HttpError};
use planpro_privacy::notices::url_rule;
use serde_json::json;
use std::time::Duration;

/// Hosts (as a URL spells them) that reach a refused IPv4 address, or are one.
const REFUSED: &[&str] = &[
    "[::127.0.0.1]",
    "[::7f00:1]",
    "[::10.0.0.1]",
    "[::a9fe:a9fe]",
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b::c0a8:1]",
    "[2002:7f00:1::1]",
    "[2002:a00:1::]",
    "[2002:a9fe:a9fe::1]",
    "198.18.0.1",
    "198.19.255.255",
    "[::ffff:198.18.0.1]",
];

#[actix_web::test]
async fn embedded_and_benchmarking_addresses_are_refused_at_registration() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.webhook_allow_private = false;
    let key = JwtKey::Secret(Secret::new(crate::harness::SECRET));
    let app = TestApp::on(db, &config, &key).await;
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
    for host in REFUSED {
        let res = app
            .post(&path, json!({ "url": format!("https://{host}/hook") }))
            .await;
        res.assert_status(400);
        assert_eq!(res.bad_fields(), ["url"], "{host}");
    }
    assert_eq!(app.db.count("SELECT 1 FROM webhooks"), 0);
    // Public addresses in the same forms stay allowed.
    for host in ["[64:ff9b::808:808]", "[2002:808:808::1]", "198.20.0.1"] {
        let res = app
            .post(&path, json!({ "url": format!("https://{host}/hook") }))
            .await;
        res.assert_status(201);
    }
}

#[test]
fn embedded_and_benchmarking_addresses_are_refused_at_each_attempt() {
    let client = HttpClient::new(ClientOptions {
        timeout: Duration::from_secs(2),
        max_body_bytes: 1024,
        allow_address: Some(url_rule::allowed),
    });
    for host in REFUSED {
        let got = client.post(&format!("http://{host}:9/hook"), &[], b"{}");
        assert!(
            matches!(got, Err(HttpError::AddressRefused)),
            "{host}: {got:?}"
        );
    }
}
