//! "No hidden text" in the accountability registers: every free text of an activity, a breach
//! and the Art. 14 records refuses bidirectional controls and invisible characters with a 400
//! naming the field, and nothing is changed.

use crate::harness::{staff, Resp, TestApp};
use actix_web::test::TestRequest;
use serde_json::{json, Value};

const HIDDEN: [&str; 3] = ["abc\u{202E}cba", "zero\u{200B}width", "tag\u{E0041}"];

/// `body` with the value at `pointer` (JSON pointer) replaced.
fn with(body: &Value, pointer: &str, value: &str) -> Value {
    let mut body = body.clone();
    *body
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = json!(value);
    body
}

async fn send(app: &TestApp, method: &str, path: &str, body: Value, tag: Option<&str>) -> Resp {
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .set_json(body);
    if let Some(tag) = tag {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn activity() -> Value {
    let mut body = crate::activities::activity_body();
    body["controller"] = json!({"name": "PlanPro OÜ"});
    body["transfers"] =
        json!([{"country": "US", "safeguard": "sccs", "reference": "SCC 2021/914"}]);
    body
}

fn breach() -> Value {
    json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["confidentiality"],
           "description": "an export was mailed to a wrong address",
           "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
           "actor": "mari.tamm@planpro.ee", "data_categories": ["identity"]})
}

/// What any accepted change would alter.
fn snapshot(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT concat_ws(',', (SELECT count(*) FROM processing_activity_versions), \
           (SELECT coalesce(sum(version), 0) FROM breaches), \
           (SELECT count(*) FROM information_notices), \
           (SELECT count(*) FROM art14_status WHERE exemption IS NOT NULL), \
           (SELECT count(*) FROM access_log WHERE outcome = 'allowed'))",
    )
}

/// (method, path, a body it accepts, If-Match, [(pointer, field named)])
type Case = (
    &'static str,
    String,
    Value,
    Option<&'static str>,
    Vec<(&'static str, &'static str)>,
);

#[actix_web::test]
async fn every_register_text_refuses_hidden_characters_naming_the_field() {
    let app = TestApp::spawn().await;
    let activity_id = {
        let res = app.post("/v1/processing-activities", activity()).await;
        res.assert_status(201);
        res.json()["id"].as_str().unwrap().to_owned()
    };
    let breach_path = {
        let res = app.post("/v1/breaches", breach()).await;
        res.assert_status(201);
        format!("/v1/breaches/{}", res.json()["id"].as_str().unwrap())
    };
    let subject = {
        let res = app
            .post(
                "/v1/subjects",
                json!({"kind": "contact", "given_name": "Mari", "family_name": "Maasikas",
                       "source": {"type": "public_registry", "name": "Äriregister"}}),
            )
            .await;
        res.assert_status(201);
        res.json()["id"].as_str().unwrap().to_owned()
    };
    let activity_path = format!("/v1/processing-activities/{activity_id}");
    let notify = json!({"notified_at": "2026-04-02T00:00:00Z", "reference": "AKI 1",
                        "delay_reasons": "the scale was only known on 1 April"});
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/v1/processing-activities".into(),
            activity(),
            None,
            vec![
                ("/name/et", "name.et"),
                ("/name/en", "name.en"),
                ("/purpose_description/en", "purpose_description.en"),
                ("/controller/name", "controller.name"),
                ("/legal_basis/reference", "legal_basis.reference"),
                ("/transfers/0/reference", "transfers[0].reference"),
                ("/retention/criterion/et", "retention.criterion.et"),
                ("/security_measures/0", "security_measures[0]"),
                ("/owner", "owner"),
            ],
        ),
        (
            "PATCH",
            activity_path,
            json!({"owner": "privacy lead"}),
            Some("\"1\""),
            vec![("/owner", "owner")],
        ),
        (
            "POST",
            "/v1/breaches".into(),
            breach(),
            None,
            vec![("/description", "description"), ("/actor", "actor")],
        ),
        (
            "PATCH",
            breach_path.clone(),
            json!({"description": "a backup was lost"}),
            Some("\"1\""),
            vec![("/description", "description")],
        ),
        (
            "PUT",
            format!("{breach_path}/assessment"),
            json!({"risk": "risk", "reasoning": "names and e-mail addresses"}),
            // The version after the change above (the body is judged before the tag).
            Some("\"2\""),
            vec![("/reasoning", "reasoning")],
        ),
        (
            "POST",
            format!("{breach_path}/authority-notification"),
            notify,
            None,
            vec![
                ("/reference", "reference"),
                ("/delay_reasons", "delay_reasons"),
            ],
        ),
        (
            "POST",
            format!("{breach_path}/subject-communication"),
            json!({"communicated_at": "2026-04-03T00:00:00Z", "method": "e-mail"}),
            None,
            vec![("/method", "method")],
        ),
        (
            "POST",
            format!("/v1/subjects/{subject}/information-notices"),
            json!({"informed_at": "2026-12-01T10:00:00Z", "method": "letter",
                   "notice_version": "privacy notice 2026-11"}),
            None,
            vec![("/notice_version", "notice_version")],
        ),
        (
            "POST",
            format!("/v1/subjects/{subject}/art14-exemption"),
            json!({"ground": "14(5)(b)", "reference": "effort assessment 2026-4"}),
            None,
            vec![("/reference", "reference")],
        ),
    ];
    let before = snapshot(&app);
    for (method, path, body, tag, fields) in &cases {
        for (pointer, field) in fields {
            for hidden in HIDDEN {
                let res = send(&app, method, path, with(body, pointer, hidden), *tag).await;
                res.assert_problem(400, "validation-failed");
                assert_eq!(res.bad_fields(), [*field], "{method} {path} {pointer}");
            }
        }
    }
    assert_eq!(snapshot(&app), before, "a refused text changed something");
    // The same bodies without the hidden character are accepted: the refusals were about it.
    for (method, path, body, tag, _) in cases {
        let res = send(&app, method, &path, body, tag).await;
        assert!(res.status.is_success(), "{method} {path}: {}", res.status);
    }
}
