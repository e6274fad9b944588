//! The access response as a printable page (contract v3, section B): self-contained, under a
//! CSP that lets only its own style apply, every value escaped; and the rendering under `docs/`.

use crate::access_response::{access, create, entries, person, recipient};
use crate::harness::TestApp;
use serde_json::json;

/// The `<style>` of a page and whether the page's CSP allows exactly it.
fn style_allowed(page: &str, csp: &str) -> bool {
    use base64::Engine;
    use sha2::Digest;
    let style = page
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    csp.contains(&format!("'sha256-{hash}'"))
}

fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "<form", "src=", "href=", "url(", "@import",
    ] {
        assert!(!lower.contains(banned), "the page holds {banned:?}");
    }
    // No event handler attribute (` onclick=` and the like).
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 3..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        assert!(
            !lower[at + 3 + name.len()..].starts_with('='),
            "an event handler at {at}"
        );
    }
}

#[actix_web::test]
async fn the_page_is_printable_self_contained_and_escapes_every_value() {
    let app = TestApp::spawn().await;
    let mut body = person();
    body["given_name"] = json!("<b>Mari</b> & \"Jüri\"");
    let id = create(&app, body).await;
    for lang in ["et", "en", "ru"] {
        let res = access(&app, &id, &format!("?format=html&lang={lang}")).await;
        res.assert_status(200);
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            res.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        let csp = res.header("content-security-policy").unwrap();
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let page = String::from_utf8(res.body.clone()).unwrap();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        assert!(style_allowed(&page, &csp));
        assert_self_contained(&page);
        assert!(page.contains("&lt;b&gt;Mari&lt;/b&gt; &amp; &quot;Jüri&quot;"));
        assert!(!page.contains("<b>Mari"));
        assert!(page.contains("Andmekaitse Inspektsioon"));
    }
    assert_eq!(entries(&app, &id, "allowed"), 3);
}

/// The committed rendering under `docs/` is a page of the current style, and self-contained.
#[test]
fn the_committed_rendering_is_current_and_self_contained() {
    let page = std::fs::read_to_string("docs/access-response.en.html").unwrap();
    assert_self_contained(&page);
    assert!(style_allowed(
        &page,
        &planpro_privacy::rights::access_response::html::content_security_policy()
    ));
}

/// Writes `docs/access-response.en.html` from a realistic person when `WRITE_DOCS` is set
/// (`WRITE_DOCS=1 cargo test --test main access_page::render_docs`); otherwise checks that
/// such a page renders.
#[actix_web::test]
async fn render_docs() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    let to = recipient(&app, "Tartu Linnavalitsus", "75006546").await;
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": to, "legal_basis": "legal_obligation",
               "legal_reference": "PlanS § 10", "data_categories": ["identity"],
               "purpose": "detailed plan"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": to, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_status(201);
    let res = access(&app, &id, "?format=html&lang=en").await;
    res.assert_status(200);
    let page = String::from_utf8(res.body.clone()).unwrap();
    assert!(page.contains("Tartu Linnavalitsus"));
    if std::env::var_os("WRITE_DOCS").is_some() {
        std::fs::write("docs/access-response.en.html", &page).unwrap();
    }
}
