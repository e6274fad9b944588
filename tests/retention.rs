//! Retention: `last_activity_at` and what moves it, rules, the due list (the contract's example,
//! month ends, Tallinn's clock changes, planning ahead), runs (erasures as `system:retention`,
//! one at a time, resumed after a crash, started by the schedule) and their access-log entries.

use crate::harness::{staff, test_config, Resp, TestApp, TestDb};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{DateTime, Duration, Utc};
use planpro_privacy::auth::Scope;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};
use uuid::Uuid;

fn id_of(value: &Value) -> Uuid {
    Uuid::parse_str(value["id"].as_str().expect("an id")).expect("a UUID")
}

async fn subject(app: &TestApp, kind: &str, last_activity_at: Option<&str>) -> Uuid {
    let mut body = json!({"kind": kind, "given_name": "Mari", "family_name": "Maasikas",
                          "source": {"type": "data_subject"}});
    if let Some(at) = last_activity_at {
        body["last_activity_at"] = json!(at);
    }
    let res = app.post("/v1/subjects", body).await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn rule(app: &TestApp, kind: &str, months: i64) -> Value {
    let res = app
        .post(
            "/v1/retention/rules",
            json!({"subject_kind": kind, "keep_months": months,
                   "legal_basis": "Accounting Act § 12"}),
        )
        .await;
    res.assert_status(201);
    res.json()
}

async fn patch_rule(
    app: &TestApp,
    id: &str,
    tag: Option<&str>,
    scopes: &[Scope],
    body: Value,
) -> Resp {
    let mut req = TestRequest::patch()
        .uri(&format!("/v1/retention/rules/{id}"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(scopes))))
        .set_json(body);
    if let Some(tag) = tag {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

async fn due(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/v1/retention/due?{query}")).await;
    res.assert_status(200);
    res.json()["items"].as_array().expect("items").clone()
}

fn ids(items: &[Value]) -> Vec<Uuid> {
    items
        .iter()
        .map(|i| Uuid::parse_str(i["subject_id"].as_str().unwrap()).unwrap())
        .collect()
}

fn last_activity(app: &TestApp, id: Uuid) -> DateTime<Utc> {
    app.db
        .scalar(&format!(
            "SELECT to_char(last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
             FROM subjects WHERE id = '{id}'"
        ))
        .parse()
        .expect("a time")
}

fn entries(app: &TestApp, filter: &str) -> i64 {
    app.db
        .count(&format!("SELECT 1 FROM access_log WHERE {filter}"))
}

async fn finished(app: &TestApp, run: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let res = app.get(&format!("/v1/retention/runs/{run}")).await;
        res.assert_status(200);
        let body = res.json();
        if body["status"] != "running" {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish: {body}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn start_run(app: &TestApp) -> String {
    let res = app
        .call(Method::POST, "/v1/retention/runs", &staff(), None)
        .await;
    res.assert_status(202);
    let body = res.json();
    assert_eq!(body["status"], "running");
    body["id"].as_str().expect("a run id").to_owned()
}

#[actix_web::test]
async fn last_activity_moves_with_rectification_consent_and_staff_disclosure_only() {
    let app = TestApp::spawn().await;
    let before = Utc::now() - Duration::seconds(1);
    let id = subject(&app, "client", None).await;
    let created = app.get(&format!("/v1/subjects/{id}")).await.json();
    assert_eq!(created["last_activity_at"], created["created_at"]);

    // A consent change: activity, but the version and the ETag stay.
    let start = last_activity(&app, id);
    assert!(start >= before);
    let res = app
        .call(
            Method::PUT,
            &format!("/v1/subjects/{id}/consents/marketing_planpro"),
            &staff(),
            Some(json!({"status": "withdrawn", "method": "email", "evidence": "mail"})),
        )
        .await;
    res.assert_status(200);
    let after_consent = last_activity(&app, id);
    assert!(after_consent > start);
    let read = app.get(&format!("/v1/subjects/{id}")).await;
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(read.json()["version"], 1);

    // A rectification: activity and a new version.
    let res = app
        .send(
            TestRequest::patch()
                .uri(&format!("/v1/subjects/{id}"))
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"email": "mari@example.ee", "reason": "new address"})),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let after_rectify = last_activity(&app, id);
    assert!(after_rectify > after_consent);
    assert_eq!(
        res.json()["last_activity_at"]
            .as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap()),
        Some(after_rectify)
    );

    // A staff disclosure record: activity; a partner read is not.
    let recipient = id_of(
        &app.post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await
        .json(),
    );
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": "form",
               "data_categories": ["identity"], "purpose": "offers"}),
    )
    .await
    .assert_status(201);
    let res = app
        .post(
            &format!("/v1/subjects/{id}/disclosures"),
            json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email"}),
        )
        .await;
    res.assert_status(201);
    let after_disclosure = last_activity(&app, id);
    assert!(after_disclosure > after_rectify);
    let partner = crate::harness::token_for("partner", &[Scope::Partner], Some(recipient));
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/partner/subjects/{id}"))
                .insert_header(("Authorization", format!("Bearer {partner}"))),
        )
        .await;
    res.assert_status(200);
    assert_eq!(last_activity(&app, id), after_disclosure);
    let read = app.get(&format!("/v1/subjects/{id}")).await;
    assert_eq!(read.header("etag").as_deref(), Some("\"2\""));

    // The export shows it.
    let export = app.get(&format!("/v1/subjects/{id}/export")).await.json();
    assert_eq!(
        export["subject"]["last_activity_at"]
            .as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap()),
        Some(after_disclosure)
    );
}

#[actix_web::test]
async fn an_import_brings_its_last_activity_and_a_future_one_is_refused() {
    let app = TestApp::spawn().await;
    let id = subject(&app, "contact", Some("2019-05-04T08:30:00.123456Z")).await;
    let body = app.get(&format!("/v1/subjects/{id}")).await.json();
    assert_eq!(body["last_activity_at"], "2019-05-04T08:30:00.123456Z");
    assert_ne!(body["created_at"], body["last_activity_at"]);

    let future = (Utc::now() + Duration::hours(1)).to_rfc3339();
    for bad in [json!(future), json!("last tuesday"), json!(17)] {
        let res = app
            .post(
                "/v1/subjects",
                json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                       "source": {"type": "data_subject"}, "last_activity_at": bad}),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["last_activity_at"], "{bad}");
    }
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 1);
    // A rectification cannot set it.
    let res = app
        .send(
            TestRequest::patch()
                .uri(&format!("/v1/subjects/{id}"))
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"last_activity_at": "2020-01-01T00:00:00Z", "reason": "x"})),
        )
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["last_activity_at"]);
}

#[actix_web::test]
async fn rules_are_one_per_kind_and_bad_ones_change_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/retention/rules",
            json!({"subject_kind": "client", "keep_months": 84, "legal_basis": "  Accounting Act  "}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let created = res.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/retention/rules/{id}"))
    );
    assert_eq!(created["keep_months"], 84);
    assert_eq!(created["legal_basis"], "Accounting Act");
    assert_eq!(created["version"], 1);

    let res = app
        .post(
            "/v1/retention/rules",
            json!({"subject_kind": "client", "keep_months": 12, "legal_basis": "again"}),
        )
        .await;
    res.assert_problem(409, "conflict");
    for (body, fields) in [
        (
            json!({"subject_kind": "supplier", "keep_months": 12, "legal_basis": "x"}),
            vec!["subject_kind"],
        ),
        (
            json!({"subject_kind": "contact", "keep_months": 0, "legal_basis": "x"}),
            vec!["keep_months"],
        ),
        (
            json!({"subject_kind": "contact", "keep_months": 1201, "legal_basis": ""}),
            vec!["keep_months", "legal_basis"],
        ),
        (
            json!({"subject_kind": "contact", "keep_months": 1.5, "legal_basis": "x"}),
            vec!["keep_months"],
        ),
        (
            json!({"subject_kind": "contact", "legal_basis": "x"}),
            vec!["keep_months"],
        ),
    ] {
        let res = app.post("/v1/retention/rules", body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}");
    }
    assert_eq!(app.db.count("SELECT 1 FROM retention_rules"), 1);
    assert_eq!(
        entries(
            &app,
            "action = 'retention.update' AND outcome = 'allowed' AND subject_id IS NULL"
        ),
        1
    );

    let list = app.get("/v1/retention/rules").await;
    list.assert_status(200);
    assert_eq!(list.json()["items"], json!([created]));
    assert_eq!(
        entries(
            &app,
            "action = 'retention.read' AND subject_id IS NULL AND count = 1"
        ),
        1
    );

    // Changes need If-Match, the current version, and subjects:erase to shorten.
    let write_only = [Scope::RetentionWrite];
    let res = patch_rule(&app, &id, None, &write_only, json!({"keep_months": 96})).await;
    res.assert_problem(428, "precondition-required");
    let res = patch_rule(
        &app,
        &id,
        Some("\"7\""),
        &write_only,
        json!({"keep_months": 96}),
    )
    .await;
    res.assert_problem(412, "precondition-failed");
    let res = patch_rule(
        &app,
        &id,
        Some("\"1\""),
        &write_only,
        json!({"keep_months": 0}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["keep_months"]);
    let res = patch_rule(
        &app,
        &id,
        Some("\"1\""),
        &write_only,
        json!({"keep_months": 60}),
    )
    .await;
    res.assert_problem(403, "insufficient-scope");
    assert!(res.json()["detail"]
        .as_str()
        .unwrap()
        .contains("subjects:erase"));
    assert_eq!(
        entries(
            &app,
            "action = 'retention.update' AND outcome = 'denied' AND actor = 'tester'"
        ),
        1
    );
    assert_eq!(
        app.db.scalar("SELECT keep_months FROM retention_rules"),
        "84"
    );
    let res = patch_rule(
        &app,
        &id,
        Some("\"1\""),
        &write_only,
        json!({"keep_months": 96}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let res = patch_rule(
        &app,
        &id,
        Some("\"2\""),
        &[Scope::RetentionWrite, Scope::SubjectsErase],
        json!({"keep_months": 60, "legal_basis": "shorter by law"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["keep_months"], 60);
    assert_eq!(res.json()["legal_basis"], "shorter by law");
    assert_eq!(res.json()["version"], 3);
    let res = patch_rule(
        &app,
        &id,
        Some("\"3\""),
        &[Scope::RetentionRead],
        json!({"keep_months": 61}),
    )
    .await;
    res.assert_problem(403, "insufficient-scope");
    let missing = Uuid::now_v7();
    let res = patch_rule(
        &app,
        &missing.to_string(),
        Some("\"1\""),
        &staff(),
        json!({"keep_months": 61}),
    )
    .await;
    res.assert_problem(404, "not-found");
}

#[actix_web::test]
async fn the_due_list_follows_tallinn_dates_month_ends_and_plans_ahead() {
    let app = TestApp::spawn().await;
    let rule_id = rule(&app, "client", 12).await["id"].clone();
    rule(&app, "contact", 1).await;
    // The contract's example: last activity 2025-01-31 in Tallinn (23:30 there is 21:30 UTC).
    let example = subject(&app, "client", Some("2025-01-31T21:30:00Z")).await;
    // 00:30 on 1 February in Tallinn is still 31 January in UTC: a day later.
    let next_day = subject(&app, "client", Some("2025-01-31T22:30:00Z")).await;
    // Month ends: 28 to 31 January plus one month all keep through 28 February 2025.
    let jan28 = subject(&app, "contact", Some("2025-01-28T10:00:00Z")).await;
    let jan31 = subject(&app, "contact", Some("2025-01-31T10:00:00Z")).await;
    let feb01 = subject(&app, "contact", Some("2025-02-01T10:00:00Z")).await;
    // Summer time: 00:30 on 31 March 2025 in Tallinn (after the clocks went forward on the
    // 30th) is 21:30 UTC on the 30th; kept through 30 April.
    let dst = subject(&app, "contact", Some("2025-03-30T21:30:00Z")).await;

    assert!(!ids(&due(&app, "as_of=2026-01-31").await).contains(&example));
    let on_first = due(&app, "as_of=2026-02-01").await;
    assert!(ids(&on_first).contains(&example));
    assert!(!ids(&on_first).contains(&next_day));
    let item = on_first
        .iter()
        .find(|i| i["subject_id"] == json!(example))
        .unwrap();
    assert_eq!(item["rule_id"], rule_id);
    assert_eq!(item["due_on"], "2026-02-01");
    assert_eq!(item["last_activity_at"], "2025-01-31T21:30:00Z");
    assert!(ids(&due(&app, "as_of=2026-02-02").await).contains(&next_day));

    let feb28 = ids(&due(&app, "as_of=2025-02-28").await);
    assert!(!feb28.contains(&jan28) && !feb28.contains(&jan31));
    let mar01 = ids(&due(&app, "as_of=2025-03-01").await);
    assert!(mar01.contains(&jan28) && mar01.contains(&jan31) && !mar01.contains(&feb01));
    assert!(ids(&due(&app, "as_of=2025-03-02").await).contains(&feb01));

    assert!(!ids(&due(&app, "as_of=2025-04-30").await).contains(&dst));
    let may = due(&app, "as_of=2025-05-01").await;
    let item = may
        .iter()
        .find(|i| i["subject_id"] == json!(dst))
        .expect("due on 1 May");
    assert_eq!(item["due_on"], "2025-05-01");

    // Planning far ahead lists everyone, oldest activity first, page by page.
    let mut seen = Vec::new();
    let mut query = "as_of=2100-01-01&limit=2".to_owned();
    loop {
        let res = app.get(&format!("/v1/retention/due?{query}")).await;
        res.assert_status(200);
        let body = res.json();
        seen.extend(ids(body["items"].as_array().unwrap()));
        match body["next_cursor"].as_str() {
            Some(c) => query = format!("as_of=2100-01-01&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [jan28, jan31, example, next_day, feb01, dst]);
    // Today (by default) nothing created in 2025 with these rules is kept any more but nothing
    // created just now is due.
    let fresh = subject(&app, "contact", None).await;
    assert!(!ids(&due(&app, "").await).contains(&fresh));
    assert!(
        entries(
            &app,
            "action = 'retention.read' AND subject_id IS NULL AND count = 2"
        ) >= 3
    );

    // Bad input names the parameter and is logged as nothing read.
    for bad in [
        "as_of=2026-02-30",
        "as_of=tomorrow",
        "as_of=",
        "limit=0",
        "cursor=zzz",
        "asof=2026-01-01",
    ] {
        let res = app.get(&format!("/v1/retention/due?{bad}")).await;
        res.assert_problem(400, "validation-failed");
        let field = bad.split('=').next().unwrap();
        assert_eq!(res.bad_fields(), [field], "{bad}");
    }
}

#[actix_web::test]
async fn a_run_erases_what_is_due_once_as_system_retention() {
    let app = TestApp::spawn().await;
    rule(&app, "client", 12).await;
    let mut old = Vec::new();
    for month in 1..=5 {
        old.push(subject(&app, "client", Some(&format!("2023-0{month}-10T10:00:00Z"))).await);
    }
    let recent = subject(&app, "client", None).await;
    let contact = subject(&app, "contact", Some("2001-01-01T00:00:00Z")).await;

    // Both scopes are needed; a refusal is logged and starts nothing.
    for scopes in [vec![Scope::RetentionWrite], vec![Scope::SubjectsErase]] {
        let res = app
            .call(Method::POST, "/v1/retention/runs", &scopes, None)
            .await;
        res.assert_problem(403, "insufficient-scope");
    }
    assert_eq!(
        entries(&app, "action = 'retention.run' AND outcome = 'denied'"),
        2
    );
    assert_eq!(app.db.count("SELECT 1 FROM retention_runs"), 0);

    let run = start_run(&app).await;
    let done = finished(&app, &run).await;
    assert_eq!(done["status"], "finished", "{done}");
    assert_eq!(done["erased"], 5);
    assert_eq!(done["skipped_on_hold"], 0);
    assert!(done["finished_at"].is_string());
    for id in &old {
        assert_eq!(
            app.db.scalar(&format!(
                "SELECT erased_at IS NOT NULL FROM subjects WHERE id = '{id}'"
            )),
            "true"
        );
    }
    for id in [recent, contact] {
        assert_eq!(
            app.db.scalar(&format!(
                "SELECT erased_at IS NULL FROM subjects WHERE id = '{id}'"
            )),
            "true",
            "a subject without a due rule was erased"
        );
    }
    assert_eq!(
        entries(&app, &format!(
            "actor = 'system:retention' AND request_id = 'retention-run-{run}' AND subject_id IS NOT NULL"
        )),
        5
    );
    assert_eq!(
        entries(&app, "action = 'retention.run' AND outcome = 'allowed' AND actor = 'tester' AND subject_id IS NULL"),
        1
    );
    assert!(due(&app, "").await.is_empty());
    // A second run finds nothing more.
    let again = start_run(&app).await;
    assert_ne!(again, run);
    assert_eq!(finished(&app, &again).await["erased"], 0);
    let res = app
        .get(&format!("/v1/retention/runs/{}", Uuid::now_v7()))
        .await;
    res.assert_problem(404, "not-found");
    let res = app.get("/v1/retention/runs/not-a-uuid").await;
    res.assert_status(400);
}

#[actix_web::test]
async fn a_run_cut_short_is_continued_by_the_next_and_erases_each_subject_once() {
    let app = TestApp::spawn().await;
    rule(&app, "contact", 6).await;
    let mut old = Vec::new();
    for day in 1..=9 {
        old.push(subject(&app, "contact", Some(&format!("2024-02-0{day}T12:00:00Z"))).await);
    }
    // A run recorded and partly carried out by an instance that then died: three erased, its
    // connection (and so its lock) gone, the run still `running`.
    let mut conn = app.db.conn();
    let (row, created) = planpro_privacy::retention::run::start(&mut conn, "tester").unwrap();
    assert!(created);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let partial = planpro_privacy::retention::run::carry_out(&mut conn, &mut [], &stop, Some(3))
        .unwrap()
        .unwrap();
    assert_eq!(partial.status, "running");
    assert_eq!(partial.erased, 3);
    drop(conn);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM subjects WHERE erased_at IS NOT NULL"),
        3
    );
    let erased_first: Vec<String> = (0..3).map(|i| old[i].to_string()).collect();
    for id in &erased_first {
        assert_eq!(
            app.db.scalar(&format!(
                "SELECT erased_at IS NOT NULL FROM subjects WHERE id = '{id}'"
            )),
            "true",
            "the oldest go first"
        );
    }

    // Asking for a run answers the one under way, which this instance takes over.
    let run = start_run(&app).await;
    assert_eq!(run, row.id.to_string());
    let done = finished(&app, &run).await;
    assert_eq!(done["status"], "finished");
    assert_eq!(done["erased"], 9);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM subjects WHERE erased_at IS NOT NULL"),
        9
    );
    let erasures = app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE actor = 'system:retention' AND request_id = 'retention-run-{run}' \
         AND subject_id IS NOT NULL"
    ));
    assert_eq!(erasures, 9, "each subject erased once");
    assert_eq!(
        app.db.count(
            "SELECT subject_id FROM access_log WHERE actor = 'system:retention' \
                      AND subject_id IS NOT NULL GROUP BY subject_id HAVING count(*) > 1"
        ),
        0
    );
}

#[actix_web::test]
async fn one_run_at_a_time_and_a_run_held_by_a_live_instance_is_left_to_it() {
    let app = TestApp::spawn().await;
    rule(&app, "client", 1).await;
    subject(&app, "client", Some("2020-01-01T00:00:00Z")).await;
    // Another instance holds the run's lock: it is alive, so this one must not take over.
    let mut other = app.db.conn();
    let (row, _) = planpro_privacy::retention::run::start(&mut other, "other-instance").unwrap();
    assert!(planpro_privacy::db::singleton::try_hold_session(
        &mut other,
        planpro_privacy::db::singleton::Singleton::RetentionRun
    )
    .unwrap());
    let first = start_run(&app).await;
    let second = start_run(&app).await;
    assert_eq!(first, row.id.to_string());
    assert_eq!(second, first);
    actix_rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let body = app.get(&format!("/v1/retention/runs/{first}")).await.json();
    assert_eq!(body["status"], "running");
    assert_eq!(body["erased"], 0);
    assert_eq!(app.db.count("SELECT 1 FROM retention_runs"), 1);
    // Once that instance is gone, the next request takes the run over.
    drop(other);
    while app
        .db
        .count("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")
        > 0
    {
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let again = start_run(&app).await;
    assert_eq!(again, first);
    assert_eq!(finished(&app, &first).await["erased"], 1);
}

#[actix_web::test]
async fn the_schedule_runs_at_start_when_the_last_run_is_over_a_day_old() {
    let db = TestDb::new();
    db.exec(
        "INSERT INTO retention_rules VALUES ('0190a000-0000-7000-8000-000000000001', 1, 'client', 1, \
         'by law', now(), now())",
    );
    let mut config = test_config(&db.url);
    config.retention.enabled = true;
    let app = TestApp::on(
        db,
        &config,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app
        .db
        .count("SELECT 1 FROM retention_runs WHERE status = 'finished'")
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "no scheduled run");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.db.scalar("SELECT started_by FROM retention_runs"),
        "system:retention"
    );
    assert_eq!(
        entries(
            &app,
            "action = 'retention.run' AND actor = 'system:retention' AND subject_id IS NULL"
        ),
        1
    );
}

async fn hold(app: &TestApp, subject: Uuid) -> String {
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/holds"),
            json!({"ground": "legal_claims", "legal_reference": "case 2-26-17",
                   "review_on": "2099-01-01"}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn held_subjects_are_not_due_and_a_run_counts_them_and_erases_the_rest() {
    let app = TestApp::spawn().await;
    rule(&app, "client", 24).await;
    let held = subject(&app, "client", Some("2020-03-01T10:00:00Z")).await;
    let released = subject(&app, "client", Some("2020-04-01T10:00:00Z")).await;
    let free = subject(&app, "client", Some("2020-05-01T10:00:00Z")).await;
    // The free one has a consent and an authorization, which the erasure withdraws and revokes.
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{free}/consents/marketing_planpro"),
        &staff(),
        Some(json!({"status": "granted", "method": "email", "evidence": "mail"})),
    )
    .await
    .assert_status(200);
    // The consent change made it active again: back-date it, as if it were long ago.
    app.db.exec(&format!(
        "UPDATE subjects SET last_activity_at = '2020-05-01T10:00:00Z' WHERE id = '{free}'"
    ));
    hold(&app, held).await;
    let hid = hold(&app, released).await;
    app.post(
        &format!("/v1/subjects/{released}/holds/{hid}/release"),
        json!({"reason": "the case ended"}),
    )
    .await
    .assert_status(200);

    assert_eq!(ids(&due(&app, "").await), [released, free]);
    let run = start_run(&app).await;
    let done = finished(&app, &run).await;
    assert_eq!(done["status"], "finished");
    assert_eq!(done["erased"], 2);
    assert_eq!(done["skipped_on_hold"], 1);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT erased_at IS NULL FROM subjects WHERE id = '{held}'"
        )),
        "true"
    );
    // Erased as by the endpoint: 410 afterwards, consents withdrawn by system:retention.
    let res = app.get(&format!("/v1/subjects/{free}")).await;
    res.assert_problem(410, "subject-erased");
    assert!(
        app.db.count(&format!(
            "SELECT 1 FROM consents WHERE subject_id = '{free}'"
        )) >= 1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM consents WHERE subject_id = '{free}' \
             AND (status <> 'withdrawn' OR updated_by <> 'system:retention')"
        )),
        0
    );
    assert_eq!(
        entries(&app, &format!(
            "action = 'subject.erase' AND actor = 'system:retention' AND subject_id IN ('{free}', '{released}')"
        )),
        2
    );
    let verify = app.get("/v1/access-logs/verify").await;
    assert_eq!(verify.json()["ok"], true);
    // The held subject is still past its keep date: the next run counts it again.
    let again = start_run(&app).await;
    let done = finished(&app, &again).await;
    assert_eq!(
        (done["erased"].clone(), done["skipped_on_hold"].clone()),
        (json!(0), json!(1))
    );
}

#[actix_web::test]
async fn a_run_started_with_a_key_is_answered_again_and_a_malformed_key_is_refused() {
    let app = TestApp::spawn().await;
    let post = |key: &str| {
        TestRequest::post()
            .uri("/v1/retention/runs")
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", key.to_owned()))
    };
    let res = app.send(post("")).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["Idempotency-Key"]);
    assert_eq!(app.db.count("SELECT 1 FROM retention_runs"), 0);
    let first = app.send(post("run-2026-12-01")).await;
    first.assert_status(202);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    finished(&app, &id).await;
    // The run is over: the retried start answers it again instead of starting another.
    let again = app.send(post("run-2026-12-01")).await;
    again.assert_status(202);
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(app.db.count("SELECT 1 FROM retention_runs"), 1);
    let other = start_run(&app).await;
    assert_ne!(other, id);
}
