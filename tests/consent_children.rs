//! Children's consent (contract v3, C; IKS §8): the age read from the personal code on the
//! grant's Tallinn date, the guardian rule, `age-unknown`; each refusal changes nothing.

use crate::consent_versions::{add_version, flag_of, put, version, PARTNERS};
use crate::harness::{subject_data, TestApp};
use chrono::{Datelike, Months, NaiveDate};
use planpro_privacy::domain::mod11::check_digit;
use serde_json::{json, Value};
use uuid::Uuid;

/// A valid personal code for someone born on `birth` (a woman; serial 001).
fn code_born(birth: NaiveDate) -> String {
    let century = match birth.year() {
        1900..=1999 => 4,
        2000..=2099 => 6,
        _ => panic!("no century digit"),
    };
    let first = format!(
        "{century}{:02}{:02}{:02}001",
        birth.year() % 100,
        birth.month(),
        birth.day()
    );
    let digits: Vec<u32> = first.chars().filter_map(|c| c.to_digit(10)).collect();
    format!("{first}{}", check_digit(&digits))
}

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Tallinn)
        .date_naive()
}

fn person(app: &TestApp, birth: Option<NaiveDate>) -> Uuid {
    let id = Uuid::now_v7();
    let mut data = subject_data("Mari", "Maasikas");
    data.personal_code = birth.map(code_born);
    app.db.insert_subject(id, data);
    id
}

fn years_ago(years: u32) -> NaiveDate {
    today().checked_sub_months(Months::new(12 * years)).unwrap()
}

async fn with_minimum_age(app: &TestApp) {
    add_version(
        app,
        PARTNERS,
        Some("\"1\""),
        version(false, json!({"minimum_age": 13})),
    )
    .await
    .assert_status(201);
}

fn grant(extra: Value) -> Value {
    let mut body = json!({"status": "granted", "method": "web_form", "evidence": "form 7"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn changed(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT (SELECT count(*) FROM consent_events)::text || '/' || \
           (SELECT count(*) FROM consents)",
    )
}

#[actix_web::test]
async fn a_child_needs_an_adult_guardian_and_the_receipt_names_the_guardian() {
    let app = TestApp::spawn().await;
    with_minimum_age(&app).await;
    let child = person(&app, Some(years_ago(10)));
    let teen = person(&app, Some(years_ago(16)));
    let adult = person(&app, Some(years_ago(40)));
    let before = changed(&app);

    put(&app, child, PARTNERS, grant(json!({})))
        .await
        .assert_problem(422, "guardian-consent-required");
    let guardian =
        |id: Uuid| json!({"guardian": {"subject_id": id, "evidence": "signed by parent"}});
    put(&app, child, PARTNERS, grant(guardian(teen)))
        .await
        .assert_problem(422, "guardian-not-adult");
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'consent.change' AND outcome = 'denied' \
             AND subject_id = '{teen}'"
        )),
        1,
        "the refused guardian check is logged about the guardian"
    );
    put(&app, child, PARTNERS, grant(guardian(child)))
        .await
        .assert_problem(422, "guardian-not-adult");
    put(&app, child, PARTNERS, grant(guardian(Uuid::now_v7())))
        .await
        .assert_status(404);
    let res = put(
        &app,
        child,
        PARTNERS,
        grant(json!({"guardian": {"subject_id": adult, "evidence": " "}})),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["guardian.evidence"]);
    assert_eq!(changed(&app), before, "refusals change nothing");

    let res = put(&app, child, PARTNERS, grant(guardian(adult))).await;
    res.assert_status(200);
    assert_eq!(res.json()["guardian_subject_id"], json!(adult));
    assert_eq!(res.json()["state"], "given");
    assert_eq!(
        flag_of(&app, child, PARTNERS).await["guardian_subject_id"],
        json!(adult)
    );
    let history = app
        .get(&format!("/v1/subjects/{child}/consents/history"))
        .await
        .json();
    let event = &history["items"][0];
    assert_eq!(event["guardian_subject_id"], json!(adult));
    assert_eq!(
        event["evidence"],
        r#"{"evidence":"form 7","guardian_evidence":"signed by parent"}"#
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'consent.change' AND outcome = 'allowed' \
             AND subject_id = '{adult}'"
        )),
        1
    );
    let id = event["id"].as_str().unwrap();
    let jws = app
        .get(&format!(
            "/v1/subjects/{child}/consents/history/{id}/receipt"
        ))
        .await;
    jws.assert_status(200);
    let payload = crate::jws::payload_unverified(std::str::from_utf8(&jws.body).unwrap());
    assert_eq!(payload["guardian"], json!({ "subject_id": adult }));

    // A 16-year-old is old enough alone; withdrawing needs no guardian.
    put(&app, teen, PARTNERS, grant(json!({})))
        .await
        .assert_status(200);
    put(
        &app,
        child,
        PARTNERS,
        json!({"status": "withdrawn", "method": "email"}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn the_minimum_age_is_reached_on_the_birthday_by_the_tallinn_date() {
    let app = TestApp::spawn().await;
    with_minimum_age(&app).await;
    let birthday_today = person(&app, Some(years_ago(13)));
    let birthday_tomorrow = person(&app, Some(years_ago(13).succ_opt().unwrap()));
    put(&app, birthday_today, PARTNERS, grant(json!({})))
        .await
        .assert_status(200);
    put(&app, birthday_tomorrow, PARTNERS, grant(json!({})))
        .await
        .assert_problem(422, "guardian-consent-required");
}

#[actix_web::test]
async fn without_a_personal_code_the_age_must_be_confirmed_with_evidence() {
    let app = TestApp::spawn().await;
    with_minimum_age(&app).await;
    let unknown = person(&app, None);
    let before = changed(&app);
    put(&app, unknown, PARTNERS, grant(json!({})))
        .await
        .assert_problem(422, "age-unknown");
    let res = put(
        &app,
        unknown,
        PARTNERS,
        grant(json!({"age_confirmed": true})),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["age_evidence"]);
    assert_eq!(changed(&app), before);
    put(
        &app,
        unknown,
        PARTNERS,
        grant(json!({"age_confirmed": true, "age_evidence": "ID card seen in person"})),
    )
    .await
    .assert_status(200);
    // A purpose without a minimum age asks nothing.
    put(
        &app,
        person(&app, None),
        "marketing_planpro",
        grant(json!({})),
    )
    .await
    .assert_status(200);
}
