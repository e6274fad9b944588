//! The person's own view (contract v3, A): subject tokens from the staff key (`self`) and from a
//! subject identity provider on a real loopback key server, `GET /v1/me`, and the code kept out
//! of every entry, the database and the server's log.

use crate::harness::{staff, test_config, token_for, TestApp, TestDb, SECRET};
use crate::jwks::{idp_key, JwksServer};
use actix_web::test::TestRequest;
use jsonwebtoken::Algorithm;
use planpro_privacy::auth;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};
use uuid::Uuid;

pub const CODE: &str = "49403136526";
pub const IDP: &str = "https://tara.example.ee";
const AUDIENCE: &str = "planpro-portal";

/// A staff-key subject token for `sub`, with `acr` when given.
pub fn self_token(sub: &str, acr: Option<&str>) -> String {
    let mut claims = auth::claims_for(sub, "self", None, 600);
    claims.acr = acr.map(str::to_owned);
    claims.jti = Some(Uuid::new_v4().to_string());
    auth::sign(SECRET, &claims).unwrap()
}

pub async fn with_token(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
) -> crate::harness::Resp {
    as_person(app, method, path, token, None).await
}

/// `method path` with `token` and an optional JSON body.
pub async fn as_person(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> crate::harness::Resp {
    let req = match method {
        "GET" => TestRequest::get(),
        "PUT" => TestRequest::put(),
        _ => TestRequest::post(),
    };
    let mut req = req
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        req = req.set_json(body);
    }
    app.send(req).await
}

pub async fn person(app: &TestApp, code: &str) -> Uuid {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "personal_code": code, "source": {"type": "data_subject"}}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().parse().unwrap()
}

/// Every entry's actor, action, subject and outcome, oldest first.
pub fn entries(app: &TestApp) -> Vec<Value> {
    let text = app.db.scalar(
        "SELECT coalesce(json_agg(json_build_object('actor', actor, 'action', action, \
         'subject_id', subject_id, 'outcome', outcome) ORDER BY seq), '[]') FROM access_log",
    );
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn a_self_token_reads_the_person_s_own_record_as_subject_id() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let res = with_token(
        &app,
        "GET",
        "/v1/me",
        &self_token(&format!("EE{CODE}"), None),
    )
    .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["personal_code"], CODE);
    assert!(res.header("etag").is_some());
    let last = entries(&app).pop().unwrap();
    assert_eq!(
        last,
        json!({"actor": format!("subject:{id}"), "action": "subject.read",
               "subject_id": id, "outcome": "allowed"})
    );
}

#[actix_web::test]
async fn an_unknown_or_erased_code_is_no_record_logged_without_the_code() {
    let app = TestApp::spawn().await;
    let res = with_token(&app, "GET", "/v1/me", &self_token("EE37605030299", None)).await;
    res.assert_problem(404, "no-record");
    let last = entries(&app).pop().unwrap();
    assert_eq!(
        last,
        json!({"actor": "subject:unknown", "action": "subject.read",
               "subject_id": null, "outcome": "denied"})
    );

    // Erasure destroys the blind index: the person's own token then finds nothing either.
    let id = person(&app, CODE).await;
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    with_token(
        &app,
        "GET",
        "/v1/me",
        &self_token(&format!("EE{CODE}"), None),
    )
    .await
    .assert_problem(404, "no-record");
    let log = app
        .db
        .scalar("SELECT string_agg(actor || ' ' || action, ';') FROM access_log");
    assert!(!log.contains(CODE), "{log}");
}

#[actix_web::test]
async fn staff_tokens_are_refused_on_me_and_subject_tokens_everywhere_else() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let staff_token = token_for("staff-1", &staff(), None);
    let res = with_token(&app, "GET", "/v1/me", &staff_token).await;
    res.assert_problem(403, "insufficient-scope");
    assert!(res
        .header("www-authenticate")
        .unwrap()
        .contains("scope=\"self\""));

    let mine = self_token(&format!("EE{CODE}"), None);
    for path in [
        format!("/v1/subjects/{id}"),
        "/v1/subjects".to_owned(),
        "/v1/access-logs".to_owned(),
        format!("/v1/partner/subjects/{id}"),
    ] {
        let res = with_token(&app, "GET", &path, &mine).await;
        assert_eq!(res.status.as_u16(), 403, "{path}");
    }
    // The refusals name nobody's code.
    let log = app
        .db
        .scalar("SELECT string_agg(actor, ';') FROM access_log WHERE outcome = 'denied' AND actor <> 'staff-1'");
    assert!(log.split(';').all(|a| a == "subject:unknown"), "{log}");
}

#[actix_web::test]
async fn a_bad_sub_a_mixed_scope_or_a_weak_login_is_401() {
    let app = TestApp::spawn().await;
    person(&app, CODE).await;
    for sub in [
        CODE.to_owned(),
        "EE49403136527".to_owned(),
        format!("ee{CODE}"),
    ] {
        let res = with_token(&app, "GET", "/v1/me", &self_token(&sub, None)).await;
        res.assert_problem(401, "unauthorized");
        assert!(res.json()["detail"].as_str().unwrap().contains("`sub`"));
    }
    let mixed = auth::sign(
        SECRET,
        &auth::claims_for(&format!("EE{CODE}"), "self subjects:read", None, 600),
    )
    .unwrap();
    with_token(&app, "GET", "/v1/me", &mixed)
        .await
        .assert_problem(401, "unauthorized");

    let weak = with_token(
        &app,
        "GET",
        "/v1/me",
        &self_token(&format!("EE{CODE}"), Some("low")),
    )
    .await;
    weak.assert_problem(401, "insufficient-user-authentication");
    assert_eq!(
        weak.header("www-authenticate").unwrap(),
        "Bearer realm=\"planpro-privacy\", error=\"insufficient_user_authentication\", acr_values=\"substantial\""
    );
    with_token(
        &app,
        "GET",
        "/v1/me",
        &self_token(&format!("EE{CODE}"), Some("bogus")),
    )
    .await
    .assert_problem(401, "unauthorized");
    with_token(
        &app,
        "GET",
        "/v1/me",
        &self_token(&format!("EE{CODE}"), Some("high")),
    )
    .await
    .assert_status(200);
    // A staff token may not pose as a person in the log.
    with_token(
        &app,
        "GET",
        "/v1/access-logs",
        &token_for("subject:x", &staff(), None),
    )
    .await
    .assert_problem(401, "unauthorized");
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE actor LIKE '%4940313%'"),
        0
    );
}

/// The app with a subject identity provider serving `key`'s set.
pub async fn app_with_idp(server: &JwksServer) -> TestApp {
    app_with_idp_and(server, |_| {}).await
}

/// [`app_with_idp`] with other settings changed by `tweak`.
pub async fn app_with_idp_and(
    server: &JwksServer,
    tweak: fn(&mut planpro_privacy::config::Config),
) -> TestApp {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    let mut env: std::collections::HashMap<String, String> =
        crate::harness::test_env().into_iter().collect();
    env.extend([
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("SUBJECT_JWKS_URL".to_owned(), server.url.clone()),
        ("SUBJECT_ISSUER".to_owned(), IDP.to_owned()),
        ("SUBJECT_AUDIENCE".to_owned(), AUDIENCE.to_owned()),
    ]);
    config.subject = planpro_privacy::config::Config::from_source(&env)
        .expect("subject settings")
        .subject;
    tweak(&mut config);
    TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await
}

/// An identity provider's claims for [`CODE`] (`amr` `mID`, a fresh `jti`).
pub fn idp_claims(acr: Option<&str>) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"iss": IDP, "aud": AUDIENCE, "sub": format!("EE{CODE}"),
        "exp": now + 600, "iat": now, "auth_time": now - 5, "amr": ["mID"],
        "jti": Uuid::new_v4().to_string()});
    if let Some(acr) = acr {
        claims["acr"] = json!(acr);
    }
    claims
}

#[actix_web::test]
async fn an_identity_provider_s_token_is_checked_only_against_its_own_keys() {
    let idp = idp_key("tara-1", Algorithm::EdDSA);
    let server = JwksServer::start(std::slice::from_ref(&idp.jwk));
    let app = app_with_idp(&server).await;
    let id = person(&app, CODE).await;

    let res = with_token(
        &app,
        "GET",
        "/v1/me",
        &idp.sign(&idp_claims(Some("substantial"))),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["id"], id.to_string());

    // Without `acr` (the minimum is substantial), or below it: RFC 9470's challenge.
    let res = with_token(&app, "GET", "/v1/me", &idp.sign(&idp_claims(None))).await;
    res.assert_problem(401, "insufficient-user-authentication");
    let res = with_token(&app, "GET", "/v1/me", &idp.sign(&idp_claims(Some("low")))).await;
    assert!(res
        .header("www-authenticate")
        .unwrap()
        .contains("acr_values=\"substantial\""));

    // Another audience, or the staff issuer's name on the provider's key: refused.
    let mut other = idp_claims(Some("high"));
    other["aud"] = json!("someone-else");
    with_token(&app, "GET", "/v1/me", &idp.sign(&other))
        .await
        .assert_problem(401, "unauthorized");
    let mut posing = idp_claims(Some("high"));
    posing.as_object_mut().unwrap().remove("iss");
    posing["scope"] = json!("self");
    with_token(&app, "GET", "/v1/me", &idp.sign(&posing))
        .await
        .assert_problem(401, "unauthorized");
    // A staff-key token claiming the provider's issuer is checked against the provider's keys.
    let mut forged = auth::claims_for(&format!("EE{CODE}"), "self", None, 600);
    forged.iss = Some(IDP.to_owned());
    with_token(&app, "GET", "/v1/me", &auth::sign(SECRET, &forged).unwrap())
        .await
        .assert_problem(401, "unauthorized");
    // A provider's token has no scope: staff endpoints refuse it.
    with_token(
        &app,
        "GET",
        &format!("/v1/subjects/{id}"),
        &idp.sign(&idp_claims(Some("high"))),
    )
    .await
    .assert_problem(403, "insufficient-scope");
}

#[test]
fn the_subject_issuer_may_not_be_the_staff_one_and_the_settings_go_together() {
    let base: Vec<(String, String)> = crate::harness::test_env();
    let with = |extra: &[(&str, &str)]| {
        let mut env: std::collections::HashMap<String, String> = base.clone().into_iter().collect();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        planpro_privacy::config::Config::from_source(&env)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let err = with(&[
        ("JWT_ISSUER", IDP),
        ("SUBJECT_JWKS_URL", "https://tara.example.ee/jwks"),
        ("SUBJECT_ISSUER", IDP),
        ("SUBJECT_AUDIENCE", AUDIENCE),
    ])
    .unwrap_err();
    assert!(
        err.contains("SUBJECT_ISSUER") && err.contains("JWT_ISSUER"),
        "{err}"
    );
    let err = with(&[("SUBJECT_ISSUER", IDP)]).unwrap_err();
    assert!(err.contains("SUBJECT_AUDIENCE"), "{err}");
    let err = with(&[("SUBJECT_MIN_ACR", "medium")]).unwrap_err();
    assert!(err.contains("SUBJECT_MIN_ACR"), "{err}");
}

#[test]
fn the_token_command_mints_a_self_token_and_refuses_a_bad_code() {
    let bin = env!("CARGO_BIN_EXE_planpro-privacy");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .arg("token")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", "postgres://unused@127.0.0.1:1/x")
            .env("JWT_SECRET", SECRET)
            .output()
            .unwrap()
    };
    let out = run(&["--self", CODE, "--acr", "high", "--ttl", "15m"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let payload = crate::jws::payload_unverified(token.trim());
    assert_eq!(payload["sub"], format!("EE{CODE}"));
    assert_eq!(payload["scope"], "self");
    assert_eq!(payload["acr"], "high");
    assert!(payload["jti"].is_string());
    for bad in [
        vec!["--self", "49403136527"],
        vec!["--self", CODE, "--sub", "x"],
        vec!["--self", CODE, "--scope", "subjects:read"],
        vec!["--acr", "high", "--sub", "x", "--scope", "subjects:read"],
    ] {
        let out = run(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("49403136527") || bad[1] == "49403136527",
            "{stderr}"
        );
    }
}

/// The person's own calls the scan below makes: method, path, body, expected status.
const OWN_CALLS: &[(&str, &str, &str, u16)] = &[
    ("GET", "/v1/me/consents", "", 200),
    (
        "PUT",
        "/v1/me/consents/marketing_partners",
        r#"{"status":"withdrawn"}"#,
        200,
    ),
    (
        "PUT",
        "/v1/me/consents/marketing_partners",
        r#"{"status":"granted"}"#,
        400,
    ),
    (
        "POST",
        "/v1/me/privacy-requests",
        r#"{"kind":"erasure","details":"my code is in the old contract"}"#,
        201,
    ),
    ("POST", "/v1/me/privacy-requests", r#"{"kind":"x"}"#, 400),
    ("GET", "/v1/me/privacy-requests", "", 200),
    ("GET", "/v1/me/privacy-requests?limit=0", "", 400),
    ("GET", "/v1/me/access-log", "", 200),
    ("GET", "/v1/me/access-log?cursor=x", "", 400),
    ("GET", "/v1/me/usage?offset=1&limit=5", "", 200),
    ("GET", "/v1/me/usage?offset=0", "", 400),
    ("GET", "/v1/me/access-response?lang=et", "", 200),
    ("GET", "/v1/me/access-response?format=html", "", 200),
];

#[test]
fn the_code_reaches_neither_the_database_nor_the_server_log() {
    let db = TestDb::new();
    let mut server = crate::process::Server::start(&db);
    let staff_auth = format!("Bearer {}", token_for("staff-1", &staff(), None));
    let (status, _) = crate::process::http(
        server.addr,
        "POST",
        "/v1/subjects",
        &[
            ("Authorization", &staff_auth),
            ("Content-Type", "application/json"),
        ],
        &format!(
            r#"{{"kind":"client","given_name":"Mari","family_name":"Maasikas","personal_code":"{CODE}","source":{{"type":"data_subject"}}}}"#
        ),
    );
    assert_eq!(status, 201);
    for (token, expected) in [
        (self_token(&format!("EE{CODE}"), None), 200),
        (self_token("EE37605030299", None), 404),
        (self_token(&format!("EE{CODE}"), Some("low")), 401),
    ] {
        let auth = format!("Bearer {token}");
        let (status, _) = crate::process::http(
            server.addr,
            "GET",
            "/v1/me",
            &[("Authorization", &auth)],
            "",
        );
        assert_eq!(status, expected);
        let (status, _) = crate::process::http(
            server.addr,
            "GET",
            "/v1/subjects",
            &[("Authorization", &auth)],
            "",
        );
        assert!(status == 403 || status == 401, "{status}");
    }
    let auth = format!("Bearer {}", self_token(&format!("EE{CODE}"), None));
    for (method, path, body, expected) in OWN_CALLS {
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let (status, _) = crate::process::http(server.addr, method, path, &headers, body);
        assert_eq!(status, *expected, "{method} {path}");
    }
    server.terminate();
    let log = server.log_text();
    assert!(log.contains("request_id="), "nothing was logged: {log}");
    let dump = crate::at_rest::pg_dump(&db);
    for needle in [CODE, "37605030299", &format!("EE{CODE}")] {
        assert!(!dump.contains(needle), "the database holds {needle}");
        assert!(!log.contains(needle), "the log holds {needle}:\n{log}");
    }
}
