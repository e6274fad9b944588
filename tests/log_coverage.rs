//! Access-log coverage, after omicron's audit-log coverage test: every operation of the OpenAPI
//! document either has a request builder here, and is called for real to prove that it logs both
//! its allowed and its refused calls with the right actor, purpose, action and subject, or is
//! named with a reason in the reviewed `tests/access_log_allowlist.txt`. A new endpoint that is
//! in neither fails the build's tests until someone decides which it is.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::access_log::Action;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const ALLOWLIST_FILE: &str = "tests/access_log_allowlist.txt";
const ALLOWLIST: &str = include_str!("access_log_allowlist.txt");

/// The actions the contract names ("Access log"); compliance scripts filter on these.
const CONTRACT_ACTIONS: [&str; 43] = [
    "subject.create",
    "subject.read",
    "subject.list",
    "subject.rectify",
    "subject.export",
    "consent.read",
    "consent.change",
    "consent.eligibility",
    "disclosure.authorize",
    "disclosure.revoke",
    "disclosure.record",
    "partner.read",
    "partner.list",
    "access_log.read",
    "request.create",
    "request.update",
    "request.read",
    "retention.read",
    "retention.run",
    "notification.read",
    "notification.update",
    "notification.send",
    "subject.erase",
    "subject.restrict",
    "subject.restriction_lift",
    "hold.create",
    "hold.release",
    "hold.read",
    "consent.confirm",
    "consent.export",
    "purpose.version",
    "ropa.update",
    "breach.create",
    "breach.update",
    "breach.read",
    "breach.scope",
    "art14.update",
    "art14.read",
    "notification.outcome",
    "access_response.read",
    "access_response.freeze",
    "download.read",
    "evidence.read",
];

/// Actions the service added (the contract allows more): reads of disclosure authorizations and
/// records, which no contract action describes; `consent.receipt` (contract version 2); and
/// `retention.update`, the creation or change of a retention rule, which no contract action
/// describes.
const ADDED_ACTIONS: [&str; 3] = ["disclosure.read", "consent.receipt", "retention.update"];

/// `METHOD /path/template`, as the OpenAPI document spells the path.
type Operation = (String, String);

fn op(method: &str, template: &str) -> Operation {
    (method.to_owned(), template.to_owned())
}

fn show(op: &Operation) -> String {
    format!("{} {}", op.0, op.1)
}

/// Every operation of the generated document.
fn documented_operations() -> BTreeSet<Operation> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ];
    let doc: Value = serde_json::from_str(&planpro_privacy::openapi::to_json())
        .expect("the OpenAPI document is JSON");
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if METHODS.contains(&method.as_str()) {
                ops.insert(op(&method.to_ascii_uppercase(), path));
            }
        }
    }
    ops
}

/// The allowlist's operations with their reasons, and every malformed line.
fn parse_allowlist(text: &str) -> (BTreeMap<Operation, String>, Vec<String>) {
    let mut entries = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{ALLOWLIST_FILE}:{}", i + 1);
        let (operation, reason) = match line.split_once('#') {
            Some((o, r)) if !r.trim().is_empty() => (o.trim(), r.trim()),
            _ => {
                problems.push(format!(
                    "{at}: `{line}` has no reason; write `METHOD /path  # why it touches no personal data`"
                ));
                continue;
            }
        };
        let parts: Vec<&str> = operation.split_whitespace().collect();
        let [method, path] = parts.as_slice() else {
            problems.push(format!(
                "{at}: `{operation}` is not `METHOD /path/template`"
            ));
            continue;
        };
        if *method != method.to_ascii_uppercase() || !path.starts_with('/') {
            problems.push(format!(
                "{at}: `{operation}` is not `METHOD /path/template`"
            ));
            continue;
        }
        if entries
            .insert(op(method, path), reason.to_owned())
            .is_some()
        {
            problems.push(format!("{at}: `{operation}` is listed twice"));
        }
    }
    (entries, problems)
}

/// Everything wrong with the coverage: each documented operation needs exactly one of a builder
/// or an allowlist line, and neither may name an operation the document no longer has.
fn coverage_problems(
    documented: &BTreeSet<Operation>,
    built: &[(Operation, &str)],
    allowlist: &str,
) -> Vec<String> {
    let (allowed, mut problems) = parse_allowlist(allowlist);
    let mut built_ops = BTreeSet::new();
    for (operation, action) in built {
        if !built_ops.insert(operation.clone()) {
            problems.push(format!(
                "{} has two request builders in tests/log_coverage.rs",
                show(operation)
            ));
        }
        if !CONTRACT_ACTIONS.contains(action) && !ADDED_ACTIONS.contains(action) {
            problems.push(format!(
                "{} expects action `{action}`, which is neither a contract action nor a known addition",
                show(operation)
            ));
        }
        if Action::parse(action).is_none() {
            problems.push(format!(
                "{} expects action `{action}`, which the service does not have",
                show(operation)
            ));
        }
    }
    for operation in documented {
        match (
            built_ops.contains(operation),
            allowed.contains_key(operation),
        ) {
            (false, false) => problems.push(format!(
                "{} writes no checked access-log entry: add a request builder in \
                 tests/log_coverage.rs or, after review, a line to {ALLOWLIST_FILE}",
                show(operation)
            )),
            (true, true) => problems.push(format!(
                "{} has a request builder and an allowlist line; remove the line from {ALLOWLIST_FILE}",
                show(operation)
            )),
            _ => {}
        }
    }
    for operation in allowed.keys().filter(|o| !documented.contains(*o)) {
        problems.push(format!(
            "{ALLOWLIST_FILE} names {}, which the OpenAPI document no longer has; remove the line",
            show(operation)
        ));
    }
    for operation in built_ops.iter().filter(|o| !documented.contains(*o)) {
        problems.push(format!(
            "tests/log_coverage.rs builds {}, which the OpenAPI document no longer has; remove the builder",
            show(operation)
        ));
    }
    problems
}

// ---------------------------------------------------------------- fixtures

/// The fixture subject, with personal data that must never reach the log.
const GIVEN_NAME: &str = "Kadri-Liis";
const FAMILY_NAME: &str = "Õunapuu";
const EMAIL: &str = "kadri-liis.ounapuu@example.ee";
const PERSONAL_CODE: &str = "49403136526";
const PHONE: &str = "+3725550101";
const NEW_PHONE: &str = "+3725550102";
const STREET: &str = "Vahtra 7";
/// The subject the `POST /v1/subjects` builder creates.
const CREATED_GIVEN_NAME: &str = "Hendrik";
const CREATED_FAMILY_NAME: &str = "Vahtramäe";
const CREATED_EMAIL: &str = "hendrik.vahtramae@example.ee";

/// Ids made once, through the API, before any operation is checked.
struct Fixtures {
    subject: Uuid,
    purpose: String,
    /// The recipient the subject's data may go to.
    partner: Uuid,
    /// An active recipient with no authorization for the subject.
    stranger: Uuid,
    /// A suspended recipient: it may receive nothing.
    suspended: Uuid,
    /// An active authorization of `partner` that stays in force.
    authorization: Uuid,
    /// An authorization the revoke builder revokes.
    revocable: Uuid,
    /// A disclosure to an authority on a legal obligation, withheld from the subject (the
    /// withholding builder extends it).
    withheld: Uuid,
    /// An open privacy request about the subject (the extend builder extends it, the close
    /// builder then closes it).
    request: Uuid,
    /// An active hold on the subject (the release builder releases it).
    hold: Uuid,
    /// A second subject, which the erasure builder erases (last).
    erasable: Uuid,
    /// The retention rule of contacts (long enough that nothing is due).
    rule: Uuid,
    /// A processing activity.
    activity: Uuid,
    /// A breach about the partner and the fixture actor.
    breach: Uuid,
    /// A retention run.
    run: Uuid,
}

fn fixture_token() -> String {
    token_for("coverage-fixture", &staff(), None)
}

async fn arrange(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
    if_match: Option<&str>,
) -> Value {
    let mut req = TestRequest::default()
        .method(method.clone())
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", fixture_token())))
        .set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    let res = app.send(req).await;
    assert!(
        res.status.is_success(),
        "arranging {method} {path}: {} {}",
        res.status,
        String::from_utf8_lossy(&res.body)
    );
    res.json()
}

fn id_of(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("no id in {value}"))
}

async fn recipient(app: &TestApp, name: &str) -> Uuid {
    id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/recipients",
            json!({"name": name, "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
            None,
        )
        .await,
    )
}

async fn authorize(app: &TestApp, subject: Uuid, recipient: Uuid, categories: &[&str]) -> Uuid {
    id_of(
        &arrange(
            app,
            Method::POST,
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "consent_evidence": "signed form 2026-11-20", "data_categories": categories,
                   "purpose": "offers for the detailed plan"}),
            None,
        )
        .await,
    )
}

/// A subject with a rectification, a consent, authorizations and a disclosure; recipients of
/// every kind the builders need.
async fn fixtures(app: &TestApp) -> Fixtures {
    let subject = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/subjects",
            json!({"kind": "client", "given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                   "personal_code": PERSONAL_CODE, "email": EMAIL, "phone": PHONE,
                   "address": {"street": STREET, "city": "Tartu", "postal_code": "50101",
                               "country": "EE"},
                   "preferred_language": "et",
                   // From a public register, so that the Art. 14 endpoints apply to it.
                   "source": {"type": "public_registry", "name": "Äriregister"}}),
            None,
        )
        .await,
    );
    arrange(
        app,
        Method::PATCH,
        &format!("/v1/subjects/{subject}"),
        json!({"phone": NEW_PHONE, "reason": "the person gave a new number"}),
        Some("\"1\""),
    )
    .await;
    let purpose = "coverage_newsletter".to_owned();
    arrange(
        app,
        Method::POST,
        "/v1/purposes",
        json!({"id": purpose, "basis": "opt_in",
               "description": {"et": "Uudiskiri.", "en": "The newsletter."}}),
        None,
    )
    .await;
    arrange(
        app,
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/{purpose}"),
        json!({"status": "granted", "method": "web_form", "evidence": "form 17"}),
        None,
    )
    .await;
    let partner = recipient(app, "Partner OÜ").await;
    let stranger = recipient(app, "Võõras AS").await;
    let suspended = recipient(app, "Peatatud OÜ").await;
    arrange(
        app,
        Method::PATCH,
        &format!("/v1/recipients/{suspended}"),
        json!({"status": "suspended"}),
        Some("\"1\""),
    )
    .await;
    let authorization = authorize(app, subject, partner, &["identity", "contact"]).await;
    let revocable = authorize(app, subject, partner, &["address"]).await;
    arrange(
        app,
        Method::POST,
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": partner, "data_categories": ["identity"], "channel": "email",
               "note": "sent on request"}),
        None,
    )
    .await;
    let authority = recipient(app, "Prefektuur").await;
    arrange(
        app,
        Method::POST,
        &format!("/v1/subjects/{subject}/disclosure-authorizations"),
        json!({"recipient_id": authority, "legal_basis": "legal_obligation",
               "legal_reference": "KrMS § 215", "data_categories": ["identity"],
               "purpose": "criminal proceedings"}),
        None,
    )
    .await;
    let withheld = id_of(
        &arrange(
            app,
            Method::POST,
            &format!("/v1/subjects/{subject}/disclosures"),
            json!({"recipient_id": authority, "data_categories": ["identity"],
                   "channel": "paper", "subject_notice_withheld_until": in_days(30),
                   "withheld_reason": "KrMS § 214"}),
            None,
        )
        .await,
    );
    let request = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/privacy-requests",
            json!({"kind": "access", "subject_id": subject, "channel": "email",
                   "received_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
            None,
        )
        .await,
    );
    let hold = id_of(
        &arrange(
            app,
            Method::POST,
            &format!("/v1/subjects/{subject}/holds"),
            json!({"ground": "legal_claims", "legal_reference": "case 2-26-17",
                   "review_on": "2099-01-01"}),
            None,
        )
        .await,
    );
    let erasable = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/subjects",
            json!({"kind": "contact", "given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                   "source": {"type": "data_subject"}}),
            None,
        )
        .await,
    );
    let rule = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/retention/rules",
            json!({"subject_kind": "contact", "keep_months": 1200, "legal_basis": "by law"}),
            None,
        )
        .await,
    );
    let run = id_of(&arrange(app, Method::POST, "/v1/retention/runs", Value::Null, None).await);
    let activity = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/processing-activities",
            crate::activities::activity_body(),
            None,
        )
        .await,
    );
    let breach = id_of(
        &arrange(
            app,
            Method::POST,
            "/v1/breaches",
            breach_body(partner),
            None,
        )
        .await,
    );
    Fixtures {
        breach,
        activity,
        rule,
        run,
        hold,
        erasable,
        subject,
        purpose,
        partner,
        stranger,
        suspended,
        authorization,
        revocable,
        withheld,
        request,
    }
}

/// The Europe/Tallinn date `days` from today.
fn in_days(days: i64) -> String {
    let today = planpro_privacy::domain::deadline::tallinn_date(chrono::Utc::now());
    (today + chrono::Duration::days(days)).to_string()
}

// ---------------------------------------------------------------- request builders

/// What the entries of an allowed call must say about subjects.
enum About {
    /// Every entry is about this subject.
    Subject(Uuid),
    /// Every entry is about the subject the call created (the `id` of the response).
    Created,
    /// One entry about no subject, with the number of ids the request named.
    Bulk(i32),
    /// Entries about no subject and without a count (retention rules and runs).
    Nobody,
    /// One entry about no subject, with a count of what it compared (the conformance report).
    Counted,
}

/// One call of an operation, filled in with fixture ids.
struct Plan {
    /// The values of the template's path parameters.
    params: Vec<(&'static str, String)>,
    query: String,
    body: Option<Value>,
    if_match: Option<String>,
    about: About,
    /// The subject a refused call's entry names (none where the call names no single subject).
    refused_about: Option<Uuid>,
    /// For partner endpoints: a recipient that may not receive the data, whose partner token
    /// must be refused with `disclosure-not-authorized`.
    other_recipient: Option<Uuid>,
}

impl Plan {
    fn about(subject: Uuid) -> Self {
        Self {
            params: vec![("id", subject.to_string())],
            query: String::new(),
            body: None,
            if_match: None,
            about: About::Subject(subject),
            refused_about: Some(subject),
            other_recipient: None,
        }
    }

    fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// An operation that must log: its expected action, the scope it needs (`partner` for the
/// partner endpoints) and how to call it.
struct Builder {
    method: &'static str,
    template: &'static str,
    action: &'static str,
    scope: Scope,
    build: fn(&Fixtures, &TestApp) -> Plan,
}

/// The explicit expected-action table, with a request builder per operation.
fn builders() -> Vec<Builder> {
    vec![
        Builder {
            method: "GET",
            template: "/v1/me",
            action: "subject.read",
            // Not checked: the person's own view is decided by `own_view`.
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan {
                params: vec![],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/me/consents",
            action: "consent.read",
            scope: Scope::ConsentsRead,
            build: |fx, _| Plan {
                params: vec![],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "PUT",
            template: "/v1/me/consents/{purpose}",
            action: "consent.change",
            scope: Scope::ConsentsWrite,
            build: |fx, _| {
                Plan {
                    params: vec![("purpose", fx.purpose.clone())],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({"status": "withdrawn"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/me/privacy-requests",
            action: "request.create",
            scope: Scope::RequestsWrite,
            build: |fx, _| {
                Plan {
                    params: vec![],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({"kind": "objection", "details": "no more offers, please"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/me/privacy-requests",
            action: "request.read",
            scope: Scope::RequestsRead,
            build: |fx, _| Plan {
                params: vec![],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/me/access-log",
            action: "access_log.read",
            scope: Scope::AccessLogsRead,
            build: |fx, _| Plan {
                params: vec![],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/me/usage",
            action: "access_log.read",
            scope: Scope::AccessLogsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: "offset=1&limit=10".into(),
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/me/access-response",
            action: "access_response.read",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: "lang=et".into(),
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects",
            action: "subject.create",
            scope: Scope::SubjectsWrite,
            build: |_, _| {
                Plan {
                    params: vec![],
                    about: About::Created,
                    refused_about: None,
                    ..Plan::about(Uuid::nil())
                }
                .body(json!({"kind": "contact", "given_name": CREATED_GIVEN_NAME,
                         "family_name": CREATED_FAMILY_NAME, "email": CREATED_EMAIL,
                         "source": {"type": "data_subject"}}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects",
            action: "subject.list",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: format!("personal_code={PERSONAL_CODE}"),
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}",
            action: "subject.read",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "PATCH",
            template: "/v1/subjects/{id}",
            action: "subject.rectify",
            scope: Scope::SubjectsWrite,
            build: |fx, app| {
                let version = app.db.scalar(&format!(
                    "SELECT version FROM subjects WHERE id = '{}'",
                    fx.subject
                ));
                Plan {
                    if_match: Some(format!("\"{version}\"")),
                    ..Plan::about(fx.subject)
                }
                .body(json!({"preferred_language": "en", "reason": "asked for English"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/rectifications",
            action: "subject.read",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/export",
            action: "subject.export",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/access-response",
            action: "access_response.read",
            scope: Scope::SubjectsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/consents",
            action: "consent.read",
            scope: Scope::ConsentsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/consents/history",
            action: "consent.read",
            scope: Scope::ConsentsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/consents/history/{event_id}/receipt",
            action: "consent.receipt",
            scope: Scope::ConsentsRead,
            build: |fx, app| {
                let event = app.db.scalar(&format!(
                    "SELECT id FROM consent_events WHERE subject_id = '{}' ORDER BY id LIMIT 1",
                    fx.subject
                ));
                Plan::about(fx.subject).param("event_id", event)
            },
        },
        Builder {
            method: "PUT",
            template: "/v1/subjects/{id}/consents/{purpose}",
            action: "consent.change",
            scope: Scope::ConsentsWrite,
            build: |fx, _| {
                Plan::about(fx.subject)
                    .param("purpose", &fx.purpose)
                    .body(json!({"status": "withdrawn", "method": "email",
                                 "evidence": "e-mail of 2026-11-24"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/consents",
            action: "consent.export",
            scope: Scope::ConsentsRead,
            build: |fx, app| Plan {
                params: vec![],
                about: About::Bulk(app.db.count(
                    "SELECT 1 FROM consents c JOIN subjects s ON s.id = c.subject_id \
                     AND s.erased_at IS NULL",
                ) as i32),
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/consents/expiring",
            action: "consent.read",
            scope: Scope::ConsentsRead,
            build: |fx, _| Plan {
                params: vec![],
                about: About::Bulk(0),
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "POST",
            template: "/v1/consents/eligibility",
            action: "consent.eligibility",
            scope: Scope::ConsentsRead,
            build: |fx, _| {
                Plan {
                    params: vec![],
                    about: About::Bulk(2),
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({"purpose": fx.purpose,
                             "subject_ids": [fx.subject, Uuid::now_v7(), fx.subject]}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/disclosure-authorizations",
            action: "disclosure.authorize",
            scope: Scope::DisclosuresWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(json!({
                    "recipient_id": fx.partner, "legal_basis": "legal_obligation",
                    "legal_reference": "Planning Act § 4", "data_categories": ["address"],
                    "purpose": "the detailed plan's notice"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/disclosure-authorizations",
            action: "disclosure.read",
            scope: Scope::DisclosuresRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/disclosure-authorizations/{aid}",
            action: "disclosure.read",
            scope: Scope::DisclosuresRead,
            build: |fx, _| Plan::about(fx.subject).param("aid", fx.authorization),
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/disclosure-authorizations/{aid}/revoke",
            action: "disclosure.revoke",
            scope: Scope::DisclosuresWrite,
            build: |fx, _| {
                Plan::about(fx.subject)
                    .param("aid", fx.revocable)
                    .body(json!({"reason": "consent withdrawn by e-mail"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/disclosures",
            action: "disclosure.record",
            scope: Scope::DisclosuresWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(json!({
                    "recipient_id": fx.partner, "data_categories": ["identity", "contact"],
                    "channel": "email", "note": "sent on request"}))
            },
        },
        Builder {
            method: "PUT",
            template: "/v1/subjects/{id}/disclosures/{did}/withholding",
            action: "disclosure.record",
            scope: Scope::DisclosuresWrite,
            build: |fx, _| {
                Plan::about(fx.subject)
                    .param("did", fx.withheld)
                    .body(json!({"until": in_days(60), "reason": "KrMS § 214, extended"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/disclosures",
            action: "disclosure.read",
            scope: Scope::DisclosuresRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "GET",
            template: "/v1/partner/subjects/{id}",
            action: "partner.read",
            scope: Scope::Partner,
            build: |fx, _| Plan {
                other_recipient: Some(fx.stranger),
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/partner/subjects",
            action: "partner.list",
            scope: Scope::Partner,
            // An active stranger just gets an empty list; a suspended recipient is refused.
            build: |fx, _| Plan {
                params: vec![],
                refused_about: None,
                other_recipient: Some(fx.suspended),
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/access-logs",
            action: "access_log.read",
            scope: Scope::AccessLogsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: format!("subject_id={}", fx.subject),
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/access-logs/{entry_id}/inclusion-proof",
            action: "access_log.read",
            scope: Scope::AccessLogsRead,
            build: |fx, app| Plan {
                params: vec![(
                    "entry_id",
                    checkpointed_entry_about(app, fx.subject).to_string(),
                )],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/evidence-bundle",
            action: "evidence.read",
            scope: Scope::SubjectsRead,
            build: |fx, app| {
                // The bundle needs a signed checkpoint.
                checkpointed_entry_about(app, fx.subject);
                Plan {
                    params: vec![],
                    query: format!("subject_id={}", fx.subject),
                    ..Plan::about(fx.subject)
                }
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/access-logs",
            action: "access_log.read",
            scope: Scope::AccessLogsRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests",
            action: "request.create",
            scope: Scope::RequestsWrite,
            build: |fx, _| {
                Plan {
                    params: vec![],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(
                    json!({"kind": "objection", "subject_id": fx.subject, "channel": "letter",
                             "received_at": "2026-11-02T10:00:00Z"}),
                )
            },
        },
        Builder {
            method: "GET",
            template: "/v1/privacy-requests",
            action: "request.read",
            scope: Scope::RequestsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: format!("subject_id={}", fx.subject),
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/privacy-requests/{id}",
            action: "request.read",
            scope: Scope::RequestsRead,
            build: |fx, _| Plan {
                params: vec![("id", fx.request.to_string())],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/extend",
            action: "request.update",
            scope: Scope::RequestsWrite,
            build: |fx, app| {
                request_change(fx, app).body(json!({
                "reason": "the files are held in three archives",
                "subject_informed_at": chrono::Utc::now() - chrono::Duration::minutes(1)}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/verification",
            action: "request.update",
            scope: Scope::RequestsWrite,
            build: |fx, app| {
                request_change(fx, app).body(json!({"method": "eid",
                    "verified_at": chrono::Utc::now() - chrono::Duration::minutes(1)}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/tasks",
            action: "request.update",
            scope: Scope::RequestsWrite,
            build: |fx, _| {
                Plan {
                    params: vec![("id", fx.request.to_string())],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({"title": "Find the paper file", "assignee": "kadri"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/privacy-requests/{id}/tasks",
            action: "request.read",
            scope: Scope::RequestsRead,
            build: |fx, _| Plan {
                params: vec![("id", fx.request.to_string())],
                refused_about: None,
                ..Plan::about(fx.subject)
            },
        },
        // Closes the task the POST made, so that the close below finds none open.
        Builder {
            method: "PATCH",
            template: "/v1/privacy-requests/{id}/tasks/{tid}",
            action: "request.update",
            scope: Scope::RequestsWrite,
            build: |fx, app| {
                let task = app.db.scalar(&format!(
                    "SELECT id FROM privacy_request_tasks WHERE request_id = '{}' \
                     AND status = 'open' ORDER BY created_at DESC LIMIT 1",
                    fx.request
                ));
                Plan {
                    params: vec![("id", fx.request.to_string()), ("tid", task)],
                    if_match: Some("\"1\"".to_owned()),
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({"status": "done", "note": "found in the archive"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/access-response",
            action: "access_response.freeze",
            scope: Scope::RequestsWrite,
            build: |fx, _| {
                Plan {
                    params: vec![("id", fx.request.to_string())],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
                .body(json!({}))
            },
        },
        // Replaces the link of the response the builder above froze.
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/access-response/{rid}/link",
            action: "access_response.freeze",
            scope: Scope::RequestsWrite,
            build: |fx, app| {
                let response = app.db.scalar(&format!(
                    "SELECT id FROM access_responses WHERE request_id = '{}' \
                     ORDER BY created_at DESC LIMIT 1",
                    fx.request
                ));
                Plan {
                    params: vec![("id", fx.request.to_string()), ("rid", response)],
                    refused_about: None,
                    ..Plan::about(fx.subject)
                }
            },
        },
        Builder {
            method: "POST",
            template: "/v1/privacy-requests/{id}/close",
            action: "request.update",
            scope: Scope::RequestsWrite,
            build: |fx, app| request_change(fx, app).body(json!({"outcome": "fulfilled"})),
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/restriction",
            action: "subject.restrict",
            scope: Scope::SubjectsWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(
                    json!({"ground": "accuracy_contested", "reason": "the address is contested"}),
                )
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/restriction/lift",
            action: "subject.restriction_lift",
            scope: Scope::SubjectsWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(json!({"reason": "the address was verified"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/holds",
            action: "hold.create",
            scope: Scope::RetentionWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(json!({"ground": "legal_obligation",
                    "legal_reference": "Accounting Act § 12", "review_on": "2099-06-30"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/subjects/{id}/holds",
            action: "hold.read",
            scope: Scope::RetentionRead,
            build: |fx, _| Plan::about(fx.subject),
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/holds/{hid}/release",
            action: "hold.release",
            scope: Scope::RetentionWrite,
            build: |fx, _| {
                Plan::about(fx.subject)
                    .param("hid", fx.hold)
                    .body(json!({"reason": "the case ended"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/retention/rules",
            action: "retention.update",
            scope: Scope::RetentionWrite,
            build: |_, _| {
                nobody().body(json!({"subject_kind": "client", "keep_months": 1200,
                                     "legal_basis": "Accounting Act § 12"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/retention/rules",
            action: "retention.read",
            scope: Scope::RetentionRead,
            build: |_, app| Plan {
                about: About::Bulk(app.db.count("SELECT 1 FROM retention_rules") as i32),
                ..nobody()
            },
        },
        Builder {
            method: "PATCH",
            template: "/v1/retention/rules/{id}",
            action: "retention.update",
            scope: Scope::RetentionWrite,
            build: |fx, app| {
                let version = app.db.scalar(&format!(
                    "SELECT version FROM retention_rules WHERE id = '{}'",
                    fx.rule
                ));
                Plan {
                    params: vec![("id", fx.rule.to_string())],
                    if_match: Some(format!("\"{version}\"")),
                    ..nobody()
                }
                .body(json!({"legal_basis": "Accounting Act § 12 (as amended)"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/retention/due",
            action: "retention.read",
            scope: Scope::RetentionRead,
            build: |_, _| Plan {
                about: About::Bulk(0),
                ..nobody()
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/information-notices",
            action: "art14.update",
            scope: Scope::SubjectsWrite,
            build: |fx, _| {
                Plan::about(fx.subject).body(json!({"informed_at": "2026-12-01T10:00:00Z",
                    "method": "letter", "notice_version": "privacy notice 2026-11"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/art14-exemption",
            action: "art14.update",
            scope: Scope::SubjectsWrite,
            build: |fx, _| {
                Plan::about(fx.subject)
                    .body(json!({"ground": "14(5)(b)", "reference": "effort assessment 2026-4"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/information-notices/due",
            action: "art14.read",
            scope: Scope::SubjectsRead,
            build: |_, _| Plan {
                about: About::Counted,
                ..nobody()
            },
        },
        Builder {
            method: "POST",
            template: "/v1/breaches",
            action: "breach.create",
            scope: Scope::BreachesWrite,
            build: |fx, _| nobody().body(breach_body(fx.partner)),
        },
        Builder {
            method: "GET",
            template: "/v1/breaches",
            action: "breach.read",
            scope: Scope::BreachesRead,
            build: |_, _| Plan {
                about: About::Counted,
                ..nobody()
            },
        },
        Builder {
            method: "GET",
            template: "/v1/breaches/{id}",
            action: "breach.read",
            scope: Scope::BreachesRead,
            build: |fx, app| breach_plan(fx, app, About::Nobody, false),
        },
        Builder {
            method: "PATCH",
            template: "/v1/breaches/{id}",
            action: "breach.update",
            scope: Scope::BreachesWrite,
            build: |fx, app| {
                breach_plan(fx, app, About::Nobody, true)
                    .body(json!({"description": "a partner's mailbox was read by a third party"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/breaches/{id}/scope",
            action: "breach.scope",
            scope: Scope::BreachesWrite,
            build: |fx, app| breach_plan(fx, app, About::Counted, false).body(json!({})),
        },
        Builder {
            method: "GET",
            template: "/v1/breaches/{id}/subjects",
            action: "breach.read",
            scope: Scope::BreachesRead,
            build: |fx, app| breach_plan(fx, app, About::Counted, false),
        },
        Builder {
            method: "PUT",
            template: "/v1/breaches/{id}/assessment",
            action: "breach.update",
            scope: Scope::BreachesWrite,
            build: |fx, app| {
                breach_plan(fx, app, About::Nobody, true)
                    .body(json!({"risk": "high", "reasoning": "contact data of many persons"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/breaches/{id}/authority-notification",
            action: "breach.update",
            scope: Scope::BreachesWrite,
            build: |fx, app| {
                breach_plan(fx, app, About::Nobody, false).body(json!({
                    "notified_at": "2026-03-30T10:00:00Z", "reference": "AKI 2.1-3/26/1"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/breaches/{id}/subject-communication",
            action: "breach.update",
            scope: Scope::BreachesWrite,
            build: |fx, app| {
                breach_plan(fx, app, About::Nobody, false).body(json!({
                    "communicated_at": "2026-03-31T10:00:00Z", "method": "e-mail"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/processing-activities",
            action: "ropa.update",
            scope: Scope::RopaWrite,
            build: |_, _| nobody().body(crate::activities::activity_body()),
        },
        Builder {
            method: "PATCH",
            template: "/v1/processing-activities/{id}",
            action: "ropa.update",
            scope: Scope::RopaWrite,
            build: |fx, app| {
                let version = app.db.scalar(&format!(
                    "SELECT version FROM processing_activities WHERE id = '{}'",
                    fx.activity
                ));
                Plan {
                    params: vec![("id", fx.activity.to_string())],
                    if_match: Some(format!("\"{version}\"")),
                    ..nobody()
                }
                .body(json!({"owner": "data protection officer"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/ropa/conformance",
            action: "access_log.read",
            scope: Scope::RopaRead,
            build: |_, _| Plan {
                query: "from=2026-01-01&to=2026-12-31".to_owned(),
                about: About::Counted,
                ..nobody()
            },
        },
        Builder {
            method: "POST",
            template: "/v1/retention/runs",
            action: "retention.run",
            scope: Scope::RetentionWrite,
            build: |_, _| nobody(),
        },
        Builder {
            method: "GET",
            template: "/v1/retention/runs/{id}",
            action: "retention.read",
            scope: Scope::RetentionRead,
            build: |fx, _| Plan {
                params: vec![("id", fx.run.to_string())],
                ..nobody()
            },
        },
        // Last: it erases its subject.
        Builder {
            method: "POST",
            template: "/v1/subjects/{id}/erasure",
            action: "subject.erase",
            scope: Scope::SubjectsErase,
            build: |fx, _| {
                Plan::about(fx.erasable).body(json!({"reason": "asked for by the person"}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/notifications",
            action: "notification.read",
            scope: Scope::NotificationsRead,
            build: |fx, _| Plan {
                params: vec![],
                query: format!("subject_id={}", fx.subject),
                ..Plan::about(fx.subject)
            },
        },
        Builder {
            method: "GET",
            template: "/v1/notifications/{id}",
            action: "notification.read",
            scope: Scope::NotificationsRead,
            build: |fx, app| notice_plan(fx, app),
        },
        Builder {
            method: "POST",
            template: "/v1/notifications/{id}/retry",
            action: "notification.update",
            scope: Scope::NotificationsWrite,
            build: |fx, app| notice_plan(fx, app),
        },
        Builder {
            method: "POST",
            template: "/v1/notifications/{id}/outcome",
            action: "notification.outcome",
            scope: Scope::NotificationsWrite,
            build: |fx, app| {
                outcome_plan(fx, app).body(json!({"outcome": "done",
                    "completed_at": chrono::Utc::now(),
                    "override_reason": "confirmed by letter"}))
            },
        },
        Builder {
            method: "POST",
            template: "/v1/partner/notifications/{id}/outcome",
            action: "notification.outcome",
            scope: Scope::Partner,
            build: |fx, app| {
                outcome_plan(fx, app)
                    .body(json!({"outcome": "not_held", "completed_at": chrono::Utc::now()}))
            },
        },
        Builder {
            method: "GET",
            template: "/v1/partner/notifications",
            action: "notification.read",
            scope: Scope::Partner,
            build: |fx, app| Plan {
                about: About::Bulk(app.db.count(&format!(
                    "SELECT 1 FROM notices WHERE recipient_id = '{}' LIMIT 100",
                    fx.partner
                )) as i32),
                ..nobody()
            },
        },
        Builder {
            method: "POST",
            template: "/v1/notifications/{id}/acknowledge",
            action: "notification.update",
            scope: Scope::NotificationsWrite,
            build: |fx, app| notice_plan(fx, app).body(json!({"note": "told by letter"})),
        },
    ]
}

/// A call about no subject.
fn breach_body(recipient: Uuid) -> Value {
    json!({"aware_at": "2026-03-28T22:30:00Z", "nature": ["confidentiality"],
           "description": "a partner's mailbox was compromised",
           "window": {"from": "2026-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"},
           "recipient_id": recipient, "actor": "coverage-fixture",
           "data_categories": ["identity"]})
}

fn breach_plan(fx: &Fixtures, app: &TestApp, about: About, with_version: bool) -> Plan {
    let version = app.db.scalar(&format!(
        "SELECT version FROM breaches WHERE id = '{}'",
        fx.breach
    ));
    Plan {
        params: vec![("id", fx.breach.to_string())],
        about,
        if_match: with_version.then(|| format!("\"{version}\"")),
        ..nobody()
    }
}

fn nobody() -> Plan {
    Plan {
        params: vec![],
        about: About::Nobody,
        refused_about: None,
        ..Plan::about(Uuid::nil())
    }
}

/// A `dead` notice about the subject, made for one call (retry and acknowledge accept it).
fn notice_plan(fx: &Fixtures, app: &TestApp) -> Plan {
    let id = Uuid::new_v4();
    app.db.exec(&format!(
        "INSERT INTO notices (id, recipient_id, subject_id, type, purpose, status, created_at) \
         VALUES ('{id}', '{}', '{}', 'consent.withdrawn', 'marketing', 'dead', now())",
        fx.partner, fx.subject
    ));
    Plan {
        params: vec![("id", id.to_string())],
        refused_about: None,
        ..Plan::about(fx.subject)
    }
}

/// A `subject.erased` notice to the partner about the subject, due an outcome, made for one
/// call (the partner's refusals come before the notice is looked up).
fn outcome_plan(fx: &Fixtures, app: &TestApp) -> Plan {
    let id = Uuid::new_v4();
    app.db.exec(&format!(
        "INSERT INTO notices (id, recipient_id, subject_id, type, status, created_at, \
           outcome_due_on) VALUES ('{id}', '{}', '{}', 'subject.erased', 'manual', \
           now() - interval '1 minute', current_date + 14)",
        fx.partner, fx.subject
    ));
    Plan {
        params: vec![("id", id.to_string())],
        refused_about: None,
        ..Plan::about(fx.subject)
    }
}

/// An entry about the subject that a signed checkpoint holds (waiting for the checkpoint).
fn checkpointed_entry_about(app: &TestApp, subject: Uuid) -> Uuid {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found = app.db.scalar(&format!(
            "SELECT coalesce((SELECT l.entry_id::text FROM access_log_leaf l \
             JOIN access_log a ON a.seq = l.entry_seq WHERE a.subject_id = '{subject}' \
             AND l.idx < (SELECT coalesce(max(size), 0) FROM access_log_checkpoint) \
             ORDER BY l.idx LIMIT 1), '')"
        ));
        if let Ok(id) = Uuid::parse_str(&found) {
            return id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpointed entry about the subject"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A change of the fixture privacy request, with its current version in `If-Match`.
fn request_change(fx: &Fixtures, app: &TestApp) -> Plan {
    let version = app.db.scalar(&format!(
        "SELECT version FROM privacy_requests WHERE id = '{}'",
        fx.request
    ));
    Plan {
        params: vec![("id", fx.request.to_string())],
        if_match: Some(format!("\"{version}\"")),
        refused_about: None,
        ..Plan::about(fx.subject)
    }
}

/// The operations with a request builder, and those a link's token calls without a bearer
/// token, which `tests/link_coverage.rs` checks instead.
fn built_operations() -> Vec<(Operation, &'static str)> {
    builders()
        .iter()
        .map(|b| (op(b.method, b.template), b.action))
        .chain(
            crate::link_coverage::LINK_OPERATIONS
                .iter()
                .map(|(method, template, action)| (op(method, template), *action)),
        )
        .collect()
}

/// The template with every `{param}` filled in, and the query.
fn uri(template: &str, plan: &Plan) -> String {
    let mut path = template.to_owned();
    for (name, value) in &plan.params {
        let slot = format!("{{{name}}}");
        assert!(
            path.contains(&slot),
            "the builder of {template} fills `{name}`, which the template does not have"
        );
        path = path.replace(&slot, value);
    }
    assert!(
        !path.contains('{'),
        "the builder of {template} leaves a path parameter unfilled: {path}"
    );
    if plan.query.is_empty() {
        path
    } else {
        format!("{path}?{}", plan.query)
    }
}

// ---------------------------------------------------------------- calls and their entries

/// Who a call is made as.
struct Caller {
    sub: String,
    scopes: Vec<Scope>,
    recipient: Option<Uuid>,
    /// For the person's own view: the personal code of their `self` token.
    person: Option<&'static str>,
}

impl Caller {
    fn token(&self) -> String {
        match self.person {
            Some(code) => crate::me::self_token(&format!("EE{code}"), None),
            None => token_for(&self.sub, &self.scopes, self.recipient),
        }
    }
}

/// The person's own view (`/v1/me...`): called with a subject token, which has no scope, and
/// refused to staff tokens whatever scopes they carry.
fn own_view(b: &Builder) -> bool {
    b.template == "/v1/me" || b.template.starts_with("/v1/me/")
}

struct Sent {
    request_id: String,
    purpose: String,
    res: Resp,
}

async fn send(
    app: &TestApp,
    b: &Builder,
    plan: &Plan,
    body: Option<&Value>,
    caller: &Caller,
    kind: &str,
) -> Sent {
    let request_id = format!("coverage-{kind}-{}", Uuid::now_v7().simple());
    let purpose = format!("coverage check, {kind}: {} {}", b.method, b.template);
    let method = Method::from_bytes(b.method.as_bytes()).expect("an HTTP method");
    let mut req = TestRequest::default()
        .method(method)
        .uri(&uri(b.template, plan))
        .insert_header(("Authorization", format!("Bearer {}", caller.token())))
        .insert_header(("X-Request-Id", request_id.as_str()))
        .insert_header(("X-Access-Purpose", purpose.as_str()));
    if let Some(tag) = &plan.if_match {
        req = req.insert_header(("If-Match", tag.as_str()));
    }
    if let Some(body) = body {
        req = req.set_json(body.clone());
    }
    let res = app.send(req).await;
    assert_eq!(
        res.header("x-request-id").as_deref(),
        Some(request_id.as_str()),
        "{} {}: the request id was not kept",
        b.method,
        b.template
    );
    Sent {
        request_id,
        purpose,
        res,
    }
}

/// The stored entries of one request, in append order.
fn entries_of(app: &TestApp, request_id: &str) -> Vec<Value> {
    let text = app.db.scalar(&format!(
        "SELECT coalesce(json_agg(a ORDER BY a.seq), '[]'::json) FROM access_log a \
         WHERE a.request_id = '{request_id}'"
    ));
    match serde_json::from_str(&text) {
        Ok(Value::Array(rows)) => rows,
        _ => panic!("not a JSON array: {text}"),
    }
}

fn uuid_field(entry: &Value, field: &str) -> Option<Uuid> {
    entry[field].as_str().and_then(|s| Uuid::parse_str(s).ok())
}

/// Checks what every entry of a call must say; `subject` is checked by the caller.
fn check_entries(
    b: &Builder,
    caller: &Caller,
    sent: &Sent,
    outcome: &str,
    entries: &[Value],
) -> Vec<String> {
    let name = format!("{} {} ({outcome})", b.method, b.template);
    if entries.is_empty() {
        return vec![format!(
            "{name}: answered {} but wrote no access-log entry with request id {}",
            sent.res.status, sent.request_id
        )];
    }
    let mut problems = Vec::new();
    for entry in entries {
        let mut expect = |field: &str, wanted: Value| {
            if entry[field] != wanted {
                problems.push(format!(
                    "{name}: entry {field} is {}, expected {wanted}; entry {entry}",
                    entry[field]
                ));
            }
        };
        expect("actor", json!(caller.sub));
        expect("purpose", json!(sent.purpose));
        expect("outcome", json!(outcome));
        expect("action", json!(b.action));
        expect("recipient_id", json!(caller.recipient));
    }
    problems
}

fn check_subjects(
    name: &str,
    entries: &[Value],
    about: &About,
    created: Option<Uuid>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let wanted = match about {
        About::Nobody => {
            for entry in entries {
                if !entry["subject_id"].is_null() || !entry["count"].is_null() {
                    problems.push(format!(
                        "{name}: the entry should be about no subject, without a count; entry {entry}"
                    ));
                }
            }
            return problems;
        }
        About::Subject(id) => Some(*id),
        About::Created => created,
        About::Counted => {
            if entries.len() != 1
                || !entries[0]["subject_id"].is_null()
                || !entries[0]["count"].is_i64()
            {
                problems.push(format!(
                    "{name}: one entry without a subject, with a count: {entries:?}"
                ));
            }
            return problems;
        }
        About::Bulk(count) => {
            if entries.len() != 1 {
                problems.push(format!(
                    "{name}: a bulk call writes one entry, found {}",
                    entries.len()
                ));
            }
            for entry in entries {
                if !entry["subject_id"].is_null() || entry["count"] != json!(count) {
                    problems.push(format!(
                        "{name}: a bulk entry has no subject and count {count}; entry {entry}"
                    ));
                }
            }
            return problems;
        }
    };
    let Some(wanted) = wanted else {
        return vec![format!("{name}: the response names no created subject")];
    };
    for entry in entries {
        if uuid_field(entry, "subject_id") != Some(wanted) || !entry["count"].is_null() {
            problems.push(format!(
                "{name}: the entry should be about subject {wanted} without a count; entry {entry}"
            ));
        }
    }
    problems
}

/// A call that must be answered 403 and logged as `denied`.
struct Refusal {
    what: &'static str,
    caller: Caller,
    /// The problem type's last segment.
    code: &'static str,
    /// Sent instead of the plan's body.
    body: Option<Value>,
}

/// Every way the operation must be refused: a token without its scope (with the valid body, and
/// with an invalid one, since the scope is checked before the body), and for the partner
/// endpoints a partner token without a recipient and one of a recipient that may not receive.
fn refusals(b: &Builder, plan: &Plan) -> Vec<Refusal> {
    let no_scope = || Caller {
        sub: "coverage-no-scope".into(),
        scopes: if b.scope == Scope::Partner || own_view(b) {
            // Staff scopes, however many, do not open the partner endpoints.
            staff()
        } else {
            staff().into_iter().filter(|s| *s != b.scope).collect()
        },
        recipient: None,
        person: None,
    };
    let mut refusals = vec![Refusal {
        what: "a token without the scope",
        caller: no_scope(),
        code: "insufficient-scope",
        body: None,
    }];
    if plan.body.is_some() {
        refusals.push(Refusal {
            what: "a token without the scope and an invalid body",
            caller: no_scope(),
            code: "insufficient-scope",
            body: Some(json!({})),
        });
    }
    if b.scope == Scope::Partner {
        refusals.push(Refusal {
            what: "a partner token without a recipient",
            caller: Caller {
                sub: "coverage-partner-without-recipient".into(),
                scopes: vec![Scope::Partner],
                recipient: None,
                person: None,
            },
            code: "recipient-required",
            body: None,
        });
    }
    if let Some(other) = plan.other_recipient {
        refusals.push(Refusal {
            what: "a partner token of a recipient that may not receive",
            caller: Caller {
                sub: format!("partner-{other}"),
                scopes: vec![Scope::Partner],
                recipient: Some(other),
                person: None,
            },
            code: "disclosure-not-authorized",
            body: None,
        });
    }
    refusals
}

/// Calls an operation allowed, then with tokens that must be refused, and checks every entry.
async fn check_operation(app: &TestApp, fx: &Fixtures, b: &Builder) -> Vec<String> {
    let plan = (b.build)(fx, app);
    let mut problems = Vec::new();
    let name = |outcome: &str| format!("{} {} ({outcome})", b.method, b.template);

    // Refusals first: a call that should have been refused must not change what the allowed
    // call then finds.
    for refusal in refusals(b, &plan) {
        let caller = &refusal.caller;
        let body = refusal.body.as_ref().or(plan.body.as_ref());
        let sent = send(app, b, &plan, body, caller, "denied").await;
        let kind = serde_json::from_slice::<Value>(&sent.res.body)
            .ok()
            .and_then(|problem| problem["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if sent.res.status.as_u16() != 403 || !kind.ends_with(refusal.code) {
            problems.push(format!(
                "{}: {} must be refused with 403 {}, got {} {}",
                name("denied"),
                refusal.what,
                refusal.code,
                sent.res.status,
                String::from_utf8_lossy(&sent.res.body)
            ));
            continue;
        }
        let entries = entries_of(app, &sent.request_id);
        problems.extend(check_entries(b, caller, &sent, "denied", &entries));
        for entry in &entries {
            if uuid_field(entry, "subject_id") != plan.refused_about {
                problems.push(format!(
                    "{}: {} should be logged about subject {:?}; entry {entry}",
                    name("denied"),
                    refusal.what,
                    plan.refused_about
                ));
            }
        }
    }

    let caller = if own_view(b) {
        Caller {
            sub: format!("subject:{}", fx.subject),
            scopes: vec![],
            recipient: None,
            person: Some(PERSONAL_CODE),
        }
    } else if b.scope == Scope::Partner {
        Caller {
            sub: format!("partner-{}", fx.partner),
            scopes: vec![Scope::Partner],
            recipient: Some(fx.partner),
            person: None,
        }
    } else {
        // Only the scopes the operation needs.
        Caller {
            sub: "coverage-staff".into(),
            scopes: needed_scopes(b),
            recipient: None,
            person: None,
        }
    };
    let sent = send(app, b, &plan, plan.body.as_ref(), &caller, "allowed").await;
    if !sent.res.status.is_success() {
        problems.push(format!(
            "{}: expected 2xx, got {} {}",
            name("allowed"),
            sent.res.status,
            String::from_utf8_lossy(&sent.res.body)
        ));
        return problems;
    }
    let created = serde_json::from_slice::<Value>(&sent.res.body)
        .ok()
        .and_then(|body| uuid_field(&body, "id"));
    let entries = entries_of(app, &sent.request_id);
    problems.extend(check_entries(b, &caller, &sent, "allowed", &entries));
    if !entries.is_empty() {
        problems.extend(check_subjects(
            &name("allowed"),
            &entries,
            &plan.about,
            created,
        ));
    }
    problems
}

/// The scopes an allowed call carries: the builder's, and for the operations that need two,
/// the second (`subjects:erase` to start a retention run, `subjects:read` to freeze an access
/// response or link it anew, `access-logs:read` for an evidence bundle).
fn needed_scopes(b: &Builder) -> Vec<Scope> {
    match (b.method, b.template) {
        ("POST", "/v1/retention/runs") => vec![b.scope, Scope::SubjectsErase],
        ("POST", "/v1/privacy-requests/{id}/access-response") => vec![b.scope, Scope::SubjectsRead],
        ("POST", "/v1/privacy-requests/{id}/access-response/{rid}/link") => {
            vec![b.scope, Scope::SubjectsRead]
        }
        ("GET", "/v1/evidence-bundle") => vec![b.scope, Scope::AccessLogsRead],
        _ => vec![b.scope],
    }
}

/// Strings of personal data found in any column of any entry.
fn personal_data_in_log(app: &TestApp, needles: &[&str]) -> Vec<String> {
    needles
        .iter()
        .filter(|needle| {
            let needle = needle.replace('\'', "''");
            app.db.count(&format!(
                "SELECT 1 FROM access_log WHERE strpos(lower(concat_ws('|', id, at, actor, \
                 recipient_id, action, subject_id, outcome, purpose, request_id, count)), \
                 lower('{needle}')) > 0"
            )) > 0
        })
        .map(|needle| (*needle).to_owned())
        .collect()
}

// ---------------------------------------------------------------- tests

#[test]
fn every_documented_operation_is_built_or_allowlisted() {
    let problems = coverage_problems(&documented_operations(), &built_operations(), ALLOWLIST);
    assert!(
        problems.is_empty(),
        "access-log coverage is incomplete:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_coverage_check_names_what_is_missing_stale_or_unexplained() {
    let documented: BTreeSet<Operation> = [
        op("GET", "/v1/things"),
        op("GET", "/v1/subjects/{id}"),
        op("GET", "/healthz"),
    ]
    .into();
    let built = [
        (op("GET", "/v1/subjects/{id}"), "subject.read"),
        (op("DELETE", "/v1/subjects/{id}"), "subject.delete"),
    ];
    let allowlist = "# comment\nGET /healthz  # liveness\nGET /v1/gone  # was removed\n\
                     POST /v1/things\nget /v1/x  # lower case\n";
    let problems = coverage_problems(&documented, &built, allowlist).join("\n");
    for expected in [
        "GET /v1/things writes no checked access-log entry: add a request builder in \
         tests/log_coverage.rs or, after review, a line to tests/access_log_allowlist.txt",
        "names GET /v1/gone, which the OpenAPI document no longer has",
        "builds DELETE /v1/subjects/{id}, which the OpenAPI document no longer has",
        "expects action `subject.delete`, which the service does not have",
        "`POST /v1/things` has no reason",
        "`get /v1/x` is not `METHOD /path/template`",
    ] {
        assert!(
            problems.contains(expected),
            "missing `{expected}` in:\n{problems}"
        );
    }
    assert!(!problems.contains("GET /healthz"), "{problems}");
    assert!(
        !problems.contains("GET /v1/subjects/{id} writes"),
        "{problems}"
    );
    let both = "GET /v1/subjects/{id}  # reviewed\n";
    assert!(coverage_problems(&documented, &built[..1], both)
        .iter()
        .any(|p| p.contains("has a request builder and an allowlist line")));
}

#[actix_web::test]
async fn every_built_operation_logs_allowed_and_refused_calls_with_ids_only() {
    let app = TestApp::spawn().await;
    let fx = fixtures(&app).await;
    let documented = documented_operations();
    let mut problems = Vec::new();
    for b in builders() {
        if !documented.contains(&op(b.method, b.template)) {
            // Reported by the coverage test; calling it would only add noise.
            continue;
        }
        problems.extend(check_operation(&app, &fx, &b).await);
    }
    assert!(
        problems.is_empty(),
        "access-log coverage failures:\n  {}",
        problems.join("\n  ")
    );

    assert!(app.db.count("SELECT 1 FROM access_log") > 0);
    let leaked = personal_data_in_log(
        &app,
        &[
            GIVEN_NAME,
            FAMILY_NAME,
            EMAIL,
            PERSONAL_CODE,
            PHONE,
            NEW_PHONE,
            STREET,
            CREATED_GIVEN_NAME,
            CREATED_FAMILY_NAME,
            CREATED_EMAIL,
        ],
    );
    assert!(
        leaked.is_empty(),
        "access-log entries hold personal data instead of ids: {leaked:?}"
    );
}
