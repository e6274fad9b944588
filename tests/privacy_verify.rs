//! The privacy centre's verify buttons in a real headless Chromium (contract v3, A: "the access
//! log with verify links"): once a signed checkpoint holds an entry about the person, its
//! button fetches the entry's inclusion proof and the page checks it against the checkpoint,
//! saying so and offering the proof; a proof changed on its way is reported as failed.

use crate::browser::{until, Browser};
use crate::harness::TestApp;
use crate::me::{person, self_token, CODE};
use crate::privacy_centre::history;

/// The page's result beside the entry's button, once there is one.
async fn result_of(browser: &Browser, entry: &str) -> Option<(String, String)> {
    let found = browser
        .js(
            "const b = document.getElementById('check-' + arguments[0]);
             const r = b && b.parentElement.querySelector('.proof-result');
             return r ? [r.className, r.innerText] : null;",
            vec![entry.into()],
        )
        .await;
    let [class, text] = found.as_array()?.as_slice() else {
        return None;
    };
    let (class, text) = (class.as_str()?, text.as_str()?);
    // "Checking…" is no result yet.
    (class.contains("ok") || class.contains("bad")).then(|| (class.to_owned(), text.to_owned()))
}

#[actix_web::test]
async fn a_sealed_entry_s_verify_button_checks_its_proof_and_a_changed_proof_fails() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    history(&app, id).await;
    // The staff read of the person, with its stated reason, and a checkpoint that holds it.
    let entry = app.db.scalar(&format!(
        "SELECT id FROM access_log WHERE actor = 'tester' AND action = 'subject.read' \
         AND subject_id = '{id}'"
    ));
    let size = app.wait_for_checkpoint().await;
    let token = self_token(&format!("EE{CODE}"), None);
    let browser = Browser::open(&app).await;
    browser
        .goto(&format!("/privacy/?lang=en#access_token={token}"))
        .await;
    browser
        .wait_for_text("the client called about an invoice")
        .await;
    browser.settled().await;

    // By keyboard, as the page promises: Tab to the entry's button, Enter.
    browser.tab_to(&format!("check-{entry}")).await;
    browser.press(fantoccini::key::Key::Enter.into()).await;
    let (b, e) = (&browser, &entry);
    let (class, text) = until("the entry's check", move || result_of(b, e)).await;
    assert!(
        class.contains("ok") && !class.contains("bad"),
        "{class}: {text}"
    );
    let checked: u64 = text
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no tree size in {text:?}"));
    assert!(
        checked >= size,
        "{text}: checked against {checked}, sealed at {size}"
    );
    assert!(
        text.starts_with("Checked: this entry is in PlanPro's signed log"),
        "{text}"
    );
    browser.find(&format!("#save-{entry}")).await;
    // The page announces the result to screen readers too.
    let said = &text;
    until("the result announced", move || async move {
        let live = b
            .js(
                "return document.getElementById('live').textContent;",
                vec![],
            )
            .await;
        (live.as_str() == Some(said.as_str())).then_some(())
    })
    .await;

    // A proof whose leaf hash changed on its way to the page does not verify.
    browser
        .js(
            "const real = window.fetch;
             window.fetch = async (url, init) => {
               const response = await real(url, init);
               if (!String(url).includes('/inclusion-proof')) return response;
               const proof = await response.json();
               const leaf = atob(proof.leaf_hash);
               proof.leaf_hash = btoa(String.fromCharCode(leaf.charCodeAt(0) ^ 1) + leaf.slice(1));
               return new Response(JSON.stringify(proof),
                 {status: 200, headers: {'Content-Type': 'application/json'}});
             };
             return true;",
            vec![],
        )
        .await;
    browser
        .find(&format!("#check-{entry}"))
        .await
        .click()
        .await
        .unwrap();
    let (class, text) = until("the changed proof's check", move || async move {
        result_of(b, e)
            .await
            .filter(|(class, _)| class.contains("bad"))
    })
    .await;
    assert!(text.starts_with("The check failed"), "{class}: {text}");
    browser.close().await;
}
