//! Races and load: many rectifications from one ETag, many consent changes of one flag, and many
//! concurrent audited reads, each checked against what the database committed.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use futures_util::future::join_all;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Concurrent requests per race.
const RACERS: usize = 8;

fn staff_bearer() -> (&'static str, String) {
    (
        "Authorization",
        format!("Bearer {}", token_for("tester", &staff(), None)),
    )
}

/// Sends `method path` as staff with this request id and an optional JSON body.
async fn send_as(
    app: &TestApp,
    method: Method,
    path: &str,
    request_id: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> Resp {
    let mut req = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(staff_bearer())
        .insert_header(("X-Request-Id", request_id.to_owned()));
    for (name, value) in headers {
        req = req.insert_header((*name, value.clone()));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    app.send(req).await
}

async fn create_subject(app: &TestApp, n: usize) -> Uuid {
    let res = app
        .post(
            "/v1/subjects",
            json!({
                "kind": "client",
                "given_name": format!("Mari{n}"),
                "family_name": "Maasikas",
                "email": format!("mari{n}@example.ee"),
                "phone": "+3725551234",
                "address": {"street": "Pikk 1", "city": "Tallinn", "country": "EE"},
                "source": {"type": "data_subject"}
            }),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().parse().unwrap()
}

// ---------------------------------------------------------------- rectification races

#[actix_web::test]
async fn of_many_rectifications_from_one_etag_exactly_one_wins_each_round() {
    let app = TestApp::spawn().await;
    let id = create_subject(&app, 0).await;
    let path = format!("/v1/subjects/{id}");
    for round in 1..=3 {
        let etag = format!("\"{round}\"");
        let racers = (0..RACERS).map(|n| {
            let (app, path, etag) = (&app, &path, &etag);
            async move {
                let request_id = format!("rectify-{round}-{n}");
                let body = json!({
                    "reason": format!("round {round} racer {n}"),
                    "email": format!("r{round}n{n}@example.ee"),
                    "given_name": format!("Racer {round}-{n}"),
                    "address": {"city": format!("Linn {round}-{n}")}
                });
                let res = send_as(
                    app,
                    Method::PATCH,
                    path,
                    &request_id,
                    &[("If-Match", etag.clone())],
                    Some(body),
                )
                .await;
                (n, request_id, res)
            }
        });
        let results = join_all(racers).await;
        let winners: Vec<_> = results.iter().filter(|(_, _, r)| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one patch may win");
        for (_, _, res) in results.iter().filter(|(_, _, r)| r.status != 200) {
            res.assert_problem(412, "precondition-failed");
        }
        let (n, winner_request, winner) = winners[0];
        let version = round + 1;
        assert_eq!(
            winner.header("etag").as_deref(),
            Some(format!("\"{version}\"").as_str())
        );
        let body = winner.json();
        assert_eq!(body["version"], version);
        assert_eq!(body["email"], format!("r{round}n{n}@example.ee"));

        // The stored record is the winner's, at the next version.
        let stored = app.db.subject(id);
        assert_eq!(
            format!(
                "{} {} {} {}",
                stored.version,
                stored.data.email.unwrap_or_default(),
                stored.data.given_name,
                stored.data.address_city.unwrap_or_default()
            ),
            format!("{version} r{round}n{n}@example.ee Racer {round}-{n} Linn {round}-{n}")
        );
        // Exactly one set of rectification rows for the round: the winner's three fields.
        let prefix = format!("round {round} ");
        let of_round: Vec<_> = app
            .db
            .rectifications(id)
            .into_iter()
            .filter(|r| r.reason.starts_with(&prefix))
            .collect();
        let mut fields: Vec<&str> = of_round.iter().map(|r| r.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields.join(","), "address.city,email,given_name");
        let requests: std::collections::BTreeSet<&str> =
            of_round.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            of_round
                .iter()
                .filter(|r| &r.request_id == winner_request
                    && r.reason == format!("round {round} racer {n}"))
                .count(),
            3
        );
        // Only the winner's change is in the access log; the losers changed nothing.
        assert_eq!(
            app.db.scalar(&format!(
                "SELECT string_agg(request_id, ',') FROM access_log \
                 WHERE action = 'subject.rectify' AND request_id LIKE 'rectify-{round}-%'"
            )),
            *winner_request
        );
    }
    assert_eq!(app.db.count("SELECT 1 FROM rectifications"), 9);
    let history = app.get(&format!("{path}/rectifications")).await;
    history.assert_status(200);
    assert_eq!(history.json()["items"].as_array().unwrap().len(), 9);
}

// ---------------------------------------------------------------- consent races

#[actix_web::test]
async fn racing_consent_changes_end_in_the_last_committed_event_and_keep_every_event() {
    const CHANGES: usize = 32;
    let app = TestApp::spawn().await;
    let subject = create_subject(&app, 0).await;
    let path = format!("/v1/subjects/{subject}/consents/marketing_partners");
    let changes = (0..CHANGES).map(|n| {
        let (app, path) = (&app, &path);
        async move {
            let status = if n % 2 == 0 { "granted" } else { "withdrawn" };
            let request_id = format!("consent-{n}");
            let res = send_as(
                app,
                Method::PUT,
                path,
                &request_id,
                &[],
                Some(json!({"status": status, "method": "api", "evidence": format!("race {n}")})),
            )
            .await;
            (status, request_id, res)
        }
    });
    // Reads race with the changes; each must see one of the two decisions.
    let flags_path = format!("/v1/subjects/{subject}/consents");
    let reads = (0..CHANGES / 4).map(|_| app.get(&flags_path));
    let (results, reads) = futures_util::future::join(join_all(changes), join_all(reads)).await;
    for read in reads {
        read.assert_status(200);
        let flags = read.json();
        let flag = flags
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["purpose"] == "marketing_partners")
            .unwrap()
            .clone();
        assert!(
            ["granted", "withdrawn", "unset"].contains(&flag["status"].as_str().unwrap()),
            "{flag}"
        );
    }

    // Every change was answered and kept as its own event, as it was asked for.
    let events = app.db.consent_events(subject);
    for (status, request_id, res) in &results {
        res.assert_status(200);
        let event_id = res.header("etag").unwrap().trim_matches('"').to_owned();
        let event = events
            .iter()
            .find(|e| e.id.to_string() == event_id)
            .unwrap();
        assert_eq!(
            format!(
                "{} {} {}",
                event.status,
                event.request_id,
                event.evidence.as_deref().unwrap_or_default()
            ),
            format!(
                "{status} {request_id} race {}",
                request_id.trim_start_matches("consent-")
            )
        );
    }
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), CHANGES as i64);
    assert_eq!(app.db.count("SELECT 1 FROM consents"), 1);

    // The flag was last written by the transaction that committed last (group commit may put
    // several changes in it); the newest event that transaction appended is the newest one of
    // all, and the flag holds exactly its decision.
    let last_committed = app.db.scalar(&format!(
        "SELECT e.id FROM consent_events e JOIN consents c \
           ON c.subject_id = e.subject_id AND c.purpose_id = e.purpose_id \
         WHERE c.subject_id = '{subject}' AND e.xmin = c.xmin ORDER BY e.id DESC LIMIT 1"
    ));
    assert_eq!(
        last_committed,
        app.db
            .scalar("SELECT id FROM consent_events ORDER BY id DESC LIMIT 1"),
        "the newest event is not the one committed last"
    );
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT (c.status, c.method, c.updated_at, c.last_event_id) \
                    = (e.status, e.method, e.at, e.id) \
             FROM consents c JOIN consent_events e ON e.id = '{last_committed}'"
        )),
        "true"
    );
    let newest = events
        .iter()
        .find(|e| e.id.to_string() == last_committed)
        .unwrap();
    assert_eq!(
        app.db.flag_evidence(subject, "marketing_partners"),
        newest.evidence
    );
    // Events of one flag are stamped in commit order: id order is time order.
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM (SELECT at, lag(at) OVER (ORDER BY id) AS before FROM consent_events) q \
             WHERE at < before"
        ),
        0
    );

    // The API agrees: the flag and the head of the history are the last committed decision.
    let consents = app
        .get(&format!("/v1/subjects/{subject}/consents"))
        .await
        .json();
    let flag = consents
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["purpose"] == "marketing_partners")
        .unwrap()
        .clone();
    let history = app
        .get(&format!(
            "/v1/subjects/{subject}/consents/history?limit=100"
        ))
        .await
        .json();
    let events = history["items"].as_array().unwrap();
    assert_eq!(events.len(), CHANGES);
    assert_eq!(events[0]["id"], last_committed);
    assert_eq!(flag["status"], events[0]["status"]);
    assert_eq!(flag["updated_at"], events[0]["at"]);
    let mut answered: Vec<String> = results
        .iter()
        .map(|(_, _, r)| r.header("etag").unwrap().trim_matches('"').to_owned())
        .collect();
    let mut listed: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    answered.sort();
    listed.sort();
    assert_eq!(answered, listed);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'consent.change' AND request_id LIKE 'consent-%'"
        ),
        CHANGES as i64
    );
}

// ---------------------------------------------------------------- audited reads under load

/// What one read should have logged: its action and the subjects it returned.
struct Read {
    request_id: String,
    res: Resp,
    expected: Vec<(String, String)>,
}

#[actix_web::test]
async fn under_load_every_successful_read_has_exactly_its_entries() {
    const SUBJECTS: usize = 6;
    const ROUNDS: usize = 12;
    let app = TestApp::spawn().await;
    let mut subjects = Vec::new();
    for n in 0..SUBJECTS {
        subjects.push(create_subject(&app, n).await);
    }
    let recipient = {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": "Partner OÜ", "category": "platform_service_provider",
                       "contact_email": "dpo@partner.ee"}),
            )
            .await;
        res.assert_status(201);
        res.json()["id"].as_str().unwrap().parse::<Uuid>().unwrap()
    };
    for subject in &subjects {
        app.post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "consent_evidence": "form 1", "data_categories": ["identity", "contact"],
                   "purpose": "offers"}),
        )
        .await
        .assert_status(201);
    }
    let partner = token_for("partner", &[Scope::Partner], Some(recipient));

    let mut requests = Vec::new();
    for round in 0..ROUNDS {
        for (n, subject) in subjects.iter().enumerate() {
            let email = format!("mari{n}@example.ee");
            for (kind, path) in [
                ("subject", format!("/v1/subjects/{subject}")),
                ("consents", format!("/v1/subjects/{subject}/consents")),
                ("partner", format!("/v1/partner/subjects/{subject}")),
                ("by-email", format!("/v1/subjects?email={email}")),
            ] {
                requests.push((format!("load-{round}-{n}-{kind}"), kind, path));
            }
        }
        requests.push((
            format!("load-{round}-list"),
            "list",
            "/v1/subjects?limit=4".to_owned(),
        ));
        requests.push((
            format!("load-{round}-partner-list"),
            "partner-list",
            "/v1/partner/subjects".to_owned(),
        ));
    }
    let total = requests.len();
    let reads = requests.into_iter().map(|(request_id, kind, path)| {
        let (app, partner) = (&app, &partner);
        async move {
            let token = if kind.starts_with("partner") {
                partner.clone()
            } else {
                token_for("tester", &staff(), None)
            };
            let res = app
                .send(
                    TestRequest::get()
                        .uri(&path)
                        .insert_header(("Authorization", format!("Bearer {token}")))
                        .insert_header(("X-Request-Id", request_id.clone())),
                )
                .await;
            let expected = if res.status == 200 {
                expected_entries(kind, &path, &res.json())
            } else {
                Vec::new()
            };
            Read {
                request_id,
                res,
                expected,
            }
        }
    });
    let reads = join_all(reads).await;

    let ok = reads.iter().filter(|r| r.res.status == 200).count();
    for read in &reads {
        assert!(
            [200, 503].contains(&read.res.status.as_u16()),
            "{}: {}",
            read.request_id,
            String::from_utf8_lossy(&read.res.body)
        );
    }
    // A pool timeout under load may answer 503 (with no data and no entry); the check below
    // needs most reads to have succeeded to mean anything.
    assert!(ok * 2 >= total, "only {ok} of {total} reads succeeded");

    // Every entry written for the load, by request: exactly those of the successful reads.
    #[derive(diesel::QueryableByName)]
    struct Logged {
        #[diesel(sql_type = diesel::sql_types::Text)]
        request_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject_id: String,
    }
    use diesel::RunQueryDsl;
    let rows: Vec<Logged> = diesel::sql_query(
        "SELECT request_id, action, coalesce(subject_id::text, '-') AS subject_id FROM access_log \
         WHERE request_id LIKE 'load-%' AND outcome = 'allowed'",
    )
    .load(&mut app.db.conn())
    .unwrap();
    let mut logged: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in rows {
        logged
            .entry(row.request_id)
            .or_default()
            .push((row.action, row.subject_id));
    }
    let mut expected: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for read in &reads {
        if !read.expected.is_empty() {
            let mut entries = read.expected.clone();
            entries.sort();
            expected.insert(read.request_id.clone(), entries);
        }
    }
    for entries in logged.values_mut() {
        entries.sort();
    }
    let expected_total: usize = expected.values().map(Vec::len).sum();
    let logged_total: usize = logged.values().map(Vec::len).sum();
    assert_eq!(logged_total, expected_total);
    assert_eq!(logged, expected);
    // Each successful partner read also recorded its disclosure.
    let partner_reads = reads
        .iter()
        .filter(|r| r.res.status == 200 && r.request_id.ends_with("-partner"))
        .count();
    assert_eq!(
        app.db
            .count("SELECT 1 FROM disclosures WHERE request_id LIKE 'load-%'"),
        partner_reads as i64
    );
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE request_id LIKE 'load-%' AND outcome <> 'allowed'"
        ),
        0
    );
}

/// The entries a successful read must have written: one per subject it returned.
fn expected_entries(kind: &str, path: &str, body: &Value) -> Vec<(String, String)> {
    let subject_in_path = || {
        path.split('/')
            .find_map(|segment| Uuid::parse_str(segment).ok())
            .unwrap()
            .to_string()
    };
    let listed = |action: &str, ids: Vec<String>| -> Vec<(String, String)> {
        ids.into_iter().map(|id| (action.to_owned(), id)).collect()
    };
    let item_ids = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                item.as_str()
                    .or_else(|| item["id"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    match kind {
        "subject" => vec![("subject.read".to_owned(), subject_in_path())],
        "consents" => vec![("consent.read".to_owned(), subject_in_path())],
        "partner" => vec![("partner.read".to_owned(), subject_in_path())],
        "by-email" => {
            let ids = item_ids(&body["items"]);
            assert_eq!(ids.len(), 1, "{path}: {body}");
            listed("subject.list", ids)
        }
        "list" => {
            let ids = item_ids(&body["items"]);
            assert_eq!(ids.len(), 4, "{body}");
            listed("subject.list", ids)
        }
        "partner-list" => {
            let ids = item_ids(&body["items"]);
            assert!(!ids.is_empty(), "{body}");
            listed("partner.list", ids)
        }
        other => panic!("unknown kind {other}"),
    }
}
