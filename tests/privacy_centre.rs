//! The privacy centre and the confirmation page in a real headless Chromium (contract v3, A):
//! the person's data with the token taken from the fragment and dropped from the address, a
//! consent switched by keyboard and read back through the API, no call without a token, the
//! three languages with dates in each, the double opt-in confirmed only by its button, and no
//! WCAG 2.1 A/AA violation that axe-core finds.

use crate::browser::{until, Browser};
use crate::consent_versions::{add_version, flag_of, put, PARTNERS};
use crate::harness::{staff, TestApp};
use crate::me::{person, self_token, CODE};
use serde_json::json;

/// The month of `at` in each language, as dates are written in it ("7. detsember 2026",
/// "7 December 2026", "7 декабря 2026 г.").
fn month_names(month: u32) -> [&'static str; 3] {
    const ET: [&str; 12] = [
        "jaanuar",
        "veebruar",
        "märts",
        "aprill",
        "mai",
        "juuni",
        "juuli",
        "august",
        "september",
        "oktoober",
        "november",
        "detsember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const RU: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    let i = (month - 1) as usize;
    [ET[i], EN[i], RU[i]]
}

fn this_month_in_tallinn() -> u32 {
    use chrono::Datelike;
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Tallinn)
        .month()
}

/// What a person's page has to show: a consent given, a staff read with its reason, a request.
pub async fn history(app: &TestApp, id: uuid::Uuid) {
    put(
        app,
        id,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "evidence": "newsletter form"}),
    )
    .await
    .assert_status(200);
    app.send(
        actix_web::test::TestRequest::get()
            .uri(&format!("/v1/subjects/{id}"))
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("X-Access-Purpose", "the client called about an invoice")),
    )
    .await
    .assert_status(200);
    app.post(
        "/v1/privacy-requests",
        json!({"kind": "rectification", "subject_id": id, "channel": "email",
               "received_at": chrono::Utc::now().to_rfc3339()}),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn the_centre_shows_the_person_s_data_in_three_languages_without_the_token_in_the_address() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    history(&app, id).await;
    let token = self_token(&format!("EE{CODE}"), None);
    let browser = Browser::open(&app).await;
    browser
        .goto(&format!("/privacy/?lang=en#access_token={token}"))
        .await;
    browser.wait_for_text("Maasikas").await;
    let text = browser.text().await;
    assert!(text.contains("Your data") && text.contains(CODE), "{text}");
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(address.fragment(), None, "{address}");
    assert!(!address.as_str().contains(&token));
    let reads = app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE actor = 'subject:{id}' AND action = 'subject.read'"
    ));
    assert_eq!(reads, 1, "one subject.read by the person");
    let month = month_names(this_month_in_tallinn());
    for (lang, heading, month) in [
        ("et", "Teie andmed", month[0]),
        ("ru", "Ваши данные", month[2]),
        ("en", "Your data", month[1]),
    ] {
        browser
            .find(&format!("nav.langs button[data-lang='{lang}']"))
            .await
            .click()
            .await
            .unwrap();
        browser.wait_for_text(heading).await;
        assert_eq!(
            browser
                .js("return document.documentElement.lang;", vec![])
                .await,
            lang
        );
        // "Kept since" is today's date, written in the page's language.
        let text = browser.text().await;
        assert!(text.contains(month), "{lang}: no {month:?} in {text}");
        assert!(!browser
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains('#'));
        if let Ok(dir) = std::env::var("PRIVACY_SCREENSHOTS") {
            browser.settled().await;
            let path = std::path::Path::new(&dir).join(format!("privacy-centre.{lang}.png"));
            browser.full_page_screenshot(&path).await;
        }
    }
    browser.settled().await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "WCAG 2.1 A/AA: {violations:#?}");
    browser.close().await;
}

#[actix_web::test]
async fn a_consent_switched_on_by_keyboard_is_granted_with_the_version_shown() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let token = self_token(&format!("EE{CODE}"), None);
    let browser = Browser::open(&app).await;
    browser
        .goto(&format!("/privacy/?lang=en#access_token={token}"))
        .await;
    let switch = format!("consent-{PARTNERS}");
    browser.find(&format!("#{switch}")).await;
    assert_eq!(
        browser
            .js(
                &format!("return document.getElementById('{switch}').checked;"),
                vec![]
            )
            .await,
        false,
        "an opt-in purpose starts off"
    );
    browser.tab_to(&switch).await;
    browser.press(' ').await;
    browser.wait_for_text("is switched on").await;
    let flag = flag_of(&app, id, PARTNERS).await;
    assert_eq!(flag["status"], "granted", "{flag}");
    assert_eq!(flag["state"], "given", "{flag}");
    assert_eq!(flag["purpose_version"], 1, "{flag}");
    let method = app.db.scalar(&format!(
        "SELECT method FROM consent_events WHERE subject_id = '{id}' ORDER BY at DESC LIMIT 1"
    ));
    assert_eq!(method, "portal");
    // The focus stays on the switch, which now reads as on; Space again switches it off.
    assert_eq!(
        browser
            .js("return document.activeElement.id;", vec![])
            .await,
        switch.as_str()
    );
    browser.press(' ').await;
    browser.wait_for_text("is switched off").await;
    assert_eq!(flag_of(&app, id, PARTNERS).await["status"], "withdrawn");
    browser.close().await;
}

#[actix_web::test]
async fn without_a_usable_token_the_pages_say_what_to_do_and_call_nothing() {
    let app = TestApp::spawn().await;
    person(&app, CODE).await;
    let before = app.db.count("SELECT 1 FROM access_log");
    let browser = Browser::open(&app).await;
    browser.goto("/privacy/?lang=en").await;
    browser.wait_for_text("Please sign in first").await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "WCAG 2.1 A/AA: {violations:#?}");
    // An expired token is recognised in the page, and not sent.
    let mut claims = planpro_privacy::auth::claims_for(&format!("EE{CODE}"), "self", None, 600);
    claims.exp = u64::try_from(chrono::Utc::now().timestamp() - 60).unwrap();
    let expired = planpro_privacy::auth::sign(crate::harness::SECRET, &claims).unwrap();
    browser
        .goto(&format!("/privacy/?lang=et#access_token={expired}"))
        .await;
    browser.wait_for_text("Teie sisselogimine on aegunud").await;
    browser.goto("/privacy/confirm?lang=ru").await;
    browser
        .wait_for_text("Эта страница открывается по ссылке")
        .await;
    let calls: Vec<String> = browser
        .requests()
        .await
        .into_iter()
        .filter(|url| url.contains("/v1/"))
        .collect();
    assert!(calls.is_empty(), "calls without a token: {calls:?}");
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), before);
    browser.close().await;
}

#[actix_web::test]
async fn the_confirmation_page_shows_the_purpose_and_confirms_only_when_pressed() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    add_version(
        &app,
        PARTNERS,
        Some("\"1\""),
        json!({"text": {"et": "Partnerite pakkumised e-postiga.", "en": "Partners' offers by e-mail.",
                        "ru": "Предложения партнёров по электронной почте."},
               "policy_url": "https://planpro.ee/privacy", "material": false,
               "confirmation": "double_opt_in"}),
    )
    .await
    .assert_status(201);
    let granted = put(
        &app,
        id,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "evidence": "newsletter form"}),
    )
    .await;
    granted.assert_status(200);
    let token = granted.json()["confirmation_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::open(&app).await;
    browser
        .goto(&format!("/privacy/confirm?lang=ru#token={token}"))
        .await;
    browser
        .wait_for_text("Предложения партнёров по электронной почте.")
        .await;
    assert!(!browser
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains(&token));
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "WCAG 2.1 A/AA: {violations:#?}");
    // Showing the purpose confirmed nothing; switching the language neither.
    browser
        .find("nav.langs button[data-lang='et']")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("Partnerite pakkumised e-postiga.")
        .await;
    assert_eq!(
        flag_of(&app, id, PARTNERS).await["state"],
        "pending_confirmation"
    );
    browser.find("#confirm").await.click().await.unwrap();
    browser.wait_for_text("Aitäh!").await;
    let app = &app;
    until("the grant to be given", move || async move {
        (flag_of(app, id, PARTNERS).await["state"] == "given").then_some(())
    })
    .await;
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE actor = 'link:confirmation' AND subject_id = '{id}' \
             AND action = 'consent.confirm'"
        )),
        1
    );
    browser.close().await;
}
