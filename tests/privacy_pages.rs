//! The privacy centre's pages as HTTP answers (contract v3, A): their headers, the language
//! they open in, every file they load, and the purpose a confirmation link shows before it is
//! used. The browser tests (tests/privacy_centre.rs) drive the same pages in Chromium.

use crate::consent_versions::{add_version, flag_of, put, PARTNERS};
use crate::harness::{Resp, TestApp};
use crate::me::{person, CODE};
use actix_web::test::TestRequest;
use serde_json::json;

async fn get(app: &TestApp, path: &str, accept_language: Option<&str>) -> Resp {
    let mut req = TestRequest::get().uri(path);
    if let Some(value) = accept_language {
        req = req.insert_header(("Accept-Language", value));
    }
    app.send(req).await
}

fn assert_guarded(res: &Resp, path: &str) {
    assert_eq!(
        res.header("content-security-policy").as_deref(),
        Some("default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
        "{path}"
    );
    assert_eq!(
        res.header("referrer-policy").as_deref(),
        Some("no-referrer"),
        "{path}"
    );
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("no-store"),
        "{path}"
    );
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{path}"
    );
}

#[actix_web::test]
async fn the_pages_open_in_the_asked_the_browser_s_or_the_estonian_language() {
    let app = TestApp::spawn().await;
    for page in ["/privacy/", "/privacy/confirm"] {
        for (query, header, lang) in [
            ("", None, "et"),
            ("?lang=ru", Some("en"), "ru"),
            ("", Some("ru-RU,ru;q=0.9,en;q=0.8"), "ru"),
            ("", Some("de-DE,en;q=0.3"), "en"),
            ("", Some("fi, sv"), "et"),
        ] {
            let path = format!("{page}{query}");
            let res = get(&app, &path, header).await;
            res.assert_status(200);
            assert_guarded(&res, &path);
            assert_eq!(
                res.header("content-type").as_deref(),
                Some("text/html; charset=utf-8")
            );
            let body = String::from_utf8(res.body.to_vec()).unwrap();
            assert!(
                body.contains(&format!("<html lang=\"{lang}\">")),
                "{path} {header:?}"
            );
            // Nothing inline: the CSP allows the page's own files only.
            assert!(
                !body.contains("<style") && !body.contains("style="),
                "{path}"
            );
            assert!(!body.contains("<script>"), "{path}");
        }
        let res = get(&app, &format!("{page}?lang=fi&utm=x"), None).await;
        res.assert_status(400);
        assert_eq!(res.bad_fields(), ["lang", "utm"]);
    }
    let res = get(&app, "/privacy", None).await;
    assert_eq!(res.header("location").as_deref(), Some("/privacy/"));
}

/// The files a page or a script names: `assets/x` in HTML, `./x.js` in an import.
fn named_files(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["\"assets/", "\"./"] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

#[actix_web::test]
async fn every_file_the_pages_load_is_served_with_the_same_guards() {
    let app = TestApp::spawn().await;
    let mut pending: Vec<String> = Vec::new();
    for page in ["/privacy/", "/privacy/confirm"] {
        let res = get(&app, page, None).await;
        pending.extend(named_files(std::str::from_utf8(&res.body).unwrap()));
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let path = format!("/privacy/assets/{file}");
        let res = get(&app, &path, None).await;
        res.assert_status(200);
        assert_guarded(&res, &path);
        let kind = if file.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert_eq!(
            res.header("content-type").as_deref(),
            Some(format!("{kind}; charset=utf-8").as_str())
        );
        pending.extend(named_files(std::str::from_utf8(&res.body).unwrap()));
    }
    assert!(seen.len() >= 10, "{seen:?}");
    get(&app, "/privacy/assets/nope.js", None)
        .await
        .assert_status(404);
    get(&app, "/privacy/assets/centre.js?v=1", None)
        .await
        .assert_status(400);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn a_confirmation_link_shows_its_purpose_without_being_used() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    add_version(
        &app,
        PARTNERS,
        Some("\"1\""),
        json!({"text": {"et": "Partnerite pakkumised.", "en": "Partners' offers."},
               "policy_url": "https://planpro.ee/privacy", "material": false,
               "confirmation": "double_opt_in"}),
    )
    .await
    .assert_status(201);
    let granted = put(
        &app,
        id,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "evidence": "form"}),
    )
    .await;
    let token = granted.json()["confirmation_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let purpose = "/v1/consents/confirmations/purpose";
    let entries = || app.db.count("SELECT 1 FROM access_log");
    let before = entries();
    let res = app.post(purpose, json!({ "token": token })).await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["purpose"], PARTNERS);
    assert_eq!(body["purpose_version"], 2);
    assert_eq!(
        body["text"],
        json!({"et": "Partnerite pakkumised.", "en": "Partners' offers.", "ru": null})
    );
    assert_eq!(body["policy_url"], "https://planpro.ee/privacy");
    assert!(body["confirmation_expires_at"].is_string());
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT actor || ' ' || action || ' ' || outcome FROM access_log \
             WHERE subject_id = '{id}' ORDER BY seq DESC LIMIT 1"
        )),
        "link:confirmation consent.read allowed"
    );
    assert_eq!(entries(), before + 1);
    assert_eq!(
        flag_of(&app, id, PARTNERS).await["state"],
        "pending_confirmation"
    );
    // Unknown or malformed: 404, nothing written.
    let counted = entries();
    for bad in ["A".repeat(43), "short".to_owned()] {
        app.post(purpose, json!({ "token": bad }))
            .await
            .assert_problem(404, "not-found");
    }
    app.post(purpose, json!({})).await.assert_status(400);
    assert_eq!(entries(), counted);
    // The link still confirms; afterwards it shows nothing.
    app.post("/v1/consents/confirmations", json!({ "token": token }))
        .await
        .assert_status(200);
    app.post(purpose, json!({ "token": token }))
        .await
        .assert_problem(410, "confirmation-expired");
}
