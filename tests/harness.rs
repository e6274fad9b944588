//! The test harness: a real PostgreSQL (the one in `TEST_DATABASE_URL`, or a private cluster the
//! harness starts itself), a fresh database per test copied from a migrated template, and the real
//! app called in-process.

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use planpro_privacy::auth::{self, Scope};
use planpro_privacy::config::{Config, JwtKey, Secret};
use planpro_privacy::db::embedded::{EmbeddedPostgres, Options};
use planpro_privacy::subjects::model::SubjectData;
use planpro_privacy::AppState;
use serde_json::Value;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::OnceLock;
use uuid::Uuid;

/// The controller every test app is configured with (`CONTROLLER_NAME`).
pub const CONTROLLER_NAME: &str = "PlanPro Test OÜ";

/// The HS256 secret every test token is signed with.
pub const SECRET: &str = "test-secret-test-secret-test-secret!";

struct Cluster {
    admin_url: String,
    template: String,
    _embedded: Option<EmbeddedPostgres>,
}

fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Replaces the database name in a URL (`postgres://…/NAME?…`).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// This account's folder for test runs in the temp folder: the shared cluster (`pg/`) and the
/// scratch folders of test processes (`scratch/<pid>/`). One per account, since one account's
/// cluster is closed to the others.
pub fn test_root() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    std::env::temp_dir().join(format!("planpro-privacy-test-{uid}"))
}

/// A new folder for one test's files, inside this process's scratch folder. The scratch folders
/// of finished test processes are removed when the next one starts, so runs leave nothing
/// else in the temp folder.
pub fn scratch(prefix: &str) -> PathBuf {
    static PROCESS: OnceLock<PathBuf> = OnceLock::new();
    let process = PROCESS.get_or_init(|| {
        let all = test_root().join("scratch");
        for entry in std::fs::read_dir(&all).into_iter().flatten().flatten() {
            let alive = entry
                .file_name()
                .to_str()
                .is_some_and(|pid| std::path::Path::new("/proc").join(pid).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        all.join(std::process::id().to_string())
    });
    let dir = process.join(format!("{prefix}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        install_data_keys();
        let (admin_url, embedded) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let pg = EmbeddedPostgres::start(&Options {
                    root: test_root().join("pg"),
                    durable: false,
                    remedy: "set TMPDIR to a directory you can write, or TEST_DATABASE_URL to a PostgreSQL URL whose role may create databases",
                })
                .unwrap_or_else(|e| panic!("start the test PostgreSQL: {e}"));
                (pg.url("postgres"), Some(pg))
            }
        };
        let template = format!("planpro_tmpl_{}", migrations_fingerprint());
        let mut admin =
            PgConnection::establish(&admin_url).expect("connect to the test PostgreSQL");
        // Several test processes may start at once (nextest): one builds the template.
        admin
            .batch_execute("SELECT pg_advisory_lock(7275)")
            .expect("lock");
        if !database_exists(&mut admin, &template) {
            let building = format!("{template}_building");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building}"))
                .expect("drop a half-built template");
            admin
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .expect("create template");
            {
                let mut conn = PgConnection::establish(&with_database(&admin_url, &building))
                    .expect("connect to the template");
                planpro_privacy::db::migrate(&mut conn).expect("migrate the template");
            }
            admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                .expect("publish template");
        }
        {
            // The process keeps the service keys of the template (maybe built by an earlier
            // run), so that databases it migrates itself get the same ones.
            let mut conn = PgConnection::establish(&with_database(&admin_url, &template))
                .expect("connect to the template");
            planpro_privacy::at_rest::store::ensure_service_keys(&mut conn)
                .expect("the template's service keys");
        }
        admin
            .batch_execute("SELECT pg_advisory_unlock(7275)")
            .expect("unlock");
        Cluster {
            admin_url,
            template,
            _embedded: embedded,
        }
    })
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}') AS found"
    ))
    .get_result::<Found>(conn)
    .map(|f| f.found)
    .unwrap_or(false)
}

/// A database of this test's own, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Copies the migrated template.
    pub fn new() -> Self {
        let cluster = cluster();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&cluster.admin_url).expect("connect");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                cluster.template
            ))
            .expect("copy the template");
        let url = with_database(&cluster.admin_url, &name);
        Self { name, url }
    }

    /// An empty database, with no migration applied (for upgrades from older versions).
    pub fn empty() -> Self {
        let cluster = cluster();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&cluster.admin_url).expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .expect("create an empty database");
        let url = with_database(&cluster.admin_url, &name);
        Self { name, url }
    }

    /// A direct connection, for arranging and checking behind the service's back.
    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }

    /// Runs SQL directly.
    pub fn exec(&self, sql: &str) {
        self.conn().batch_execute(sql).expect("run SQL");
    }

    /// The first column of the first row of a query, as text.
    pub fn scalar(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct One {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        diesel::sql_query(format!("SELECT ({sql})::text AS v"))
            .get_result::<One>(&mut self.conn())
            .expect("scalar query")
            .v
    }

    /// The number of rows of a query.
    pub fn count(&self, sql: &str) -> i64 {
        self.scalar(&format!("SELECT count(*) FROM ({sql}) AS q"))
            .parse()
            .expect("a count")
    }

    /// Inserts a subject behind the service's back (sealed as the service seals it).
    pub fn insert_subject(&self, id: Uuid, data: SubjectData) {
        let now = chrono::Utc::now();
        planpro_privacy::subjects::model::insert(&mut self.conn(), id.into(), data, now, now)
            .expect("insert a subject");
    }

    /// The stored subject, opened as the service opens it.
    pub fn subject(
        &self,
        id: impl std::fmt::Display,
    ) -> planpro_privacy::subjects::model::SubjectRow {
        planpro_privacy::subjects::model::find(&mut self.conn(), uuid_of(id).into())
            .expect("a subject")
    }

    /// The subject's stored rectifications, opened, oldest first.
    pub fn rectifications(
        &self,
        id: impl std::fmt::Display,
    ) -> Vec<planpro_privacy::subjects::model::RectificationRow> {
        planpro_privacy::subjects::model::rectifications(
            &mut self.conn(),
            uuid_of(id).into(),
            None,
            None,
        )
        .expect("rectifications")
    }

    /// The subject's stored consent events, opened, newest first.
    pub fn consent_events(
        &self,
        id: impl std::fmt::Display,
    ) -> Vec<planpro_privacy::consents::model::EventRow> {
        planpro_privacy::consents::model::history(
            &mut self.conn(),
            uuid_of(id).into(),
            None,
            None,
            None,
        )
        .expect("consent events")
    }

    /// The evidence of the subject's flag for `purpose`, opened.
    pub fn flag_evidence(&self, subject: impl std::fmt::Display, purpose: &str) -> Option<String> {
        use planpro_privacy::consents::model::{flag_evidence_at, flag_row};
        let subject = uuid_of(subject);
        #[derive(diesel::QueryableByName)]
        struct Sealed {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
            v: Option<Vec<u8>>,
        }
        let mut conn = self.conn();
        let sealed = diesel::sql_query(format!(
            "SELECT evidence_enc AS v FROM consents WHERE subject_id = '{subject}' \
             AND purpose_id = '{purpose}'"
        ))
        .get_result::<Sealed>(&mut conn)
        .expect("a flag")
        .v?;
        let key = planpro_privacy::at_rest::subject_key(&mut conn, subject.into())
            .expect("the subject's key")?;
        let row = flag_row(subject.into(), purpose);
        key.open_text(flag_evidence_at(&row), Some(&sealed))
    }

    /// A stored value opened with its subject's key: `table.column` (an `_enc` column) of the
    /// row whose `id` is `row` (its bytes are the row's place), of subject `subject`.
    /// `None` when the value is absent or does not open.
    pub fn opened(
        &self,
        table: &'static str,
        column: &'static str,
        row: Uuid,
        subject: Uuid,
    ) -> Option<String> {
        #[derive(diesel::QueryableByName)]
        struct Sealed {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
            v: Option<Vec<u8>>,
        }
        let mut conn = self.conn();
        let sealed = diesel::sql_query(format!(
            "SELECT {column} AS v FROM {table} WHERE id = '{row}'"
        ))
        .get_result::<Sealed>(&mut conn)
        .expect("a sealed value")
        .v?;
        let key = planpro_privacy::at_rest::subject_key(&mut conn, subject.into())
            .expect("the subject's key")?;
        let place = planpro_privacy::at_rest::Place {
            table,
            column,
            row: row.as_bytes(),
        };
        key.open_text(place, Some(&sealed))
    }
}

fn uuid_of(id: impl std::fmt::Display) -> Uuid {
    Uuid::parse_str(&id.to_string()).expect("a UUID")
}

/// A subject's fields with only the required ones set.
pub fn subject_data(given_name: &str, family_name: &str) -> SubjectData {
    SubjectData {
        kind: "client".into(),
        given_name: given_name.into(),
        family_name: family_name.into(),
        personal_code: None,
        email: None,
        phone: None,
        address_street: None,
        address_city: None,
        address_postal_code: None,
        address_country: None,
        preferred_language: None,
        source_type: "data_subject".into(),
        source_name: None,
        source_reference: None,
        source_collected_at: None,
        source_attestation: None,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&cluster().admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

type Call = Rc<dyn Fn(actix_http::Request) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// The real app on a test database.
pub struct TestApp {
    pub db: TestDb,
    pub state: web::Data<AppState>,
    call: Call,
    data_dir: PathBuf,
}

/// The access-log key of every test (base64 of 32 bytes).
pub const ACCESS_LOG_KEY: &str = "dGVzdC1hY2Nlc3MtbG9nLWtleS0zMi1ieXRlcy0hISE=";

/// The master key of personal data at rest in every test (base64 of 32 bytes).
pub const DATA_KEY: &str = "dGVzdC1kYXRhLWtleS1vZi0zMi1ieXRlcy0wMDAwMDE=";
/// The previous master key every test runs with, as during a rotation (so the rotation tests
/// can wrap keys under either).
pub const DATA_KEY_PREVIOUS: &str = "dGVzdC1wcmV2aW91cy1kYXRhLWtleS0zMi1ieXRlcyE=";

/// Installs the test keyring: the template database is migrated with it, so every test database
/// holds the same service keys as the process.
pub fn install_data_keys() {
    let settings: std::collections::HashMap<String, String> = [
        ("DATA_KEY".to_owned(), DATA_KEY.to_owned()),
        ("DATA_KEY_PREVIOUS".to_owned(), DATA_KEY_PREVIOUS.to_owned()),
        ("DATABASE_URL".to_owned(), "postgres://unused".to_owned()),
        ("JWT_SECRET".to_owned(), SECRET.to_owned()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_source(&settings).expect("test data keys");
    config
        .data_keys
        .install(false, std::path::Path::new("."))
        .expect("install the test data keys");
}

/// The checkpoint and receipt signing keys of every test (PKCS#8 PEM), made once per run.
pub fn signing_keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            planpro_privacy::proof_keys::new_pem(),
            planpro_privacy::proof_keys::new_pem(),
        )
    })
}

/// The environment tests run with besides the database: keys, a data folder of the test's own
/// (it keeps the last signed checkpoint) and a short checkpoint interval.
pub fn test_env() -> Vec<(String, String)> {
    let (checkpoint, receipt) = signing_keys();
    let data_dir = scratch("data");
    [
        ("JWT_SECRET", SECRET),
        ("ACCESS_LOG_KEY", ACCESS_LOG_KEY),
        ("DATA_KEY", DATA_KEY),
        ("DATA_KEY_PREVIOUS", DATA_KEY_PREVIOUS),
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        ("CHECKPOINT_SIGNING_KEY", checkpoint),
        ("RECEIPT_SIGNING_KEY", receipt),
        ("CHECKPOINT_INTERVAL_MS", "200"),
        ("DATA_DIR", data_dir.to_str().expect("a UTF-8 temp dir")),
        // Tests start runs themselves (tests/retention.rs turns the schedule on where it is tested).
        ("RETENTION_AUTORUN", "false"),
        // The controller as configured, unlike the defaults, so receipts show where theirs come from.
        ("CONTROLLER_NAME", CONTROLLER_NAME),
        ("CONTROLLER_REGISTRY_CODE", "12345678"),
        ("CONTROLLER_ADDRESS", "Pikk 1, 10123 Tallinn"),
        ("CONTROLLER_EMAIL", "privacy@planpro.ee"),
        ("CONTROLLER_POLICY_URL", "https://planpro.ee/privacy"),
        ("DATA_STORAGE_LOCATION", "FI"),
        // One authority setting differs from its default, so access responses show theirs is read.
        ("AUTHORITY_EMAIL", "kaebused@aki.ee"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The configuration tests run with (HS256 with [`SECRET`]).
pub fn test_config(url: &str) -> Config {
    let mut env: std::collections::HashMap<String, String> = test_env().into_iter().collect();
    env.extend([
        ("DATABASE_URL".to_owned(), url.to_owned()),
        ("DB_POOL_SIZE".to_owned(), "4".to_owned()),
        ("DB_POOL_TIMEOUT_MS".to_owned(), "1500".to_owned()),
    ]);
    let mut config = Config::from_source(&env).expect("test configuration");
    config.migrate_on_start = false;
    config
}

impl TestApp {
    /// A fresh database and the app on it.
    pub async fn spawn() -> Self {
        let db = TestDb::new();
        let config = test_config(&db.url);
        Self::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await
    }

    /// The app with a given configuration and key.
    pub async fn on(db: TestDb, config: &Config, key: &JwtKey) -> Self {
        let url = config
            .database_url
            .as_ref()
            .map(|u| u.expose().to_owned())
            .unwrap_or_else(|| db.url.clone());
        let state = web::Data::new(AppState::new(config, &url, key).expect("app state"));
        let service =
            Rc::new(actix_web::test::init_service(planpro_privacy::build_app(state.clone())).await);
        let call: Call = Rc::new(move |req| {
            let service = Rc::clone(&service);
            Box::pin(async move {
                match service.call(req).await {
                    Ok(res) => res.map_into_boxed_body(),
                    Err(e) => panic!("the app returned an error instead of a response: {e}"),
                }
            })
        });
        Self {
            db,
            state,
            call,
            data_dir: config.data_dir.clone(),
        }
    }

    /// Waits until a signed checkpoint holds every entry committed so far; returns its size.
    pub async fn wait_for_checkpoint(&self) -> u64 {
        let wanted = self.db.count(
            "SELECT 1 FROM access_log a WHERE NOT EXISTS \
             (SELECT 1 FROM access_log_refused r WHERE r.entry_seq = a.seq)",
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let size: i64 = self
                .db
                .scalar("SELECT coalesce(max(size), 0) FROM access_log_checkpoint")
                .parse()
                .expect("a size");
            if size >= wanted && size > 0 {
                return size as u64;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint of {wanted} entries within 15 s (latest: {size})"
            );
            actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until a checkpoint of the newest epoch (after a rollback) holds at least `size`
    /// entries; returns its size.
    pub async fn wait_for_new_epoch_checkpoint(&self, size: u64) -> u64 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let latest: u64 = self
                .db
                .scalar(
                    "SELECT coalesce(max(size), 0) FROM access_log_checkpoint \
                     WHERE epoch = (SELECT coalesce(max(epoch), 0) FROM access_log_rollback)",
                )
                .parse()
                .expect("a size");
            if latest >= size {
                return latest;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint of {size} entries in the new epoch within 15 s (latest: {latest})"
            );
            actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A token with these scopes for the actor `tester`.
    pub fn token(&self, scopes: &[Scope]) -> String {
        token_for("tester", scopes, None)
    }

    /// Sends a request as built.
    pub async fn send(&self, req: TestRequest) -> Resp {
        let res = (self.call)(req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = actix_web::body::to_bytes(res.into_body())
            .await
            .unwrap_or_default();
        Resp {
            status,
            headers,
            body: body.to_vec(),
        }
    }

    /// Sends `method path` with a token carrying `scopes` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        scopes: &[Scope],
        body: Option<Value>,
    ) -> Resp {
        let mut req = TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", self.token(scopes))));
        if let Some(body) = body {
            req = req.set_json(body);
        }
        self.send(req).await
    }

    /// GET with every staff scope.
    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, &staff(), None).await
    }

    /// POST JSON with every staff scope.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, &staff(), Some(body)).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.shutdown();
        if self.data_dir.starts_with(test_root()) {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Every staff scope.
pub fn staff() -> Vec<Scope> {
    Scope::ALL
        .into_iter()
        .filter(|s| *s != Scope::Partner)
        .collect()
}

/// A token for any actor.
pub fn token_for(sub: &str, scopes: &[Scope], recipient: Option<Uuid>) -> String {
    let scope = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    auth::sign(SECRET, &auth::claims_for(sub, &scope, recipient, 600)).expect("sign")
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(HeaderName::from_bytes(name.as_bytes()).ok()?)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a problem+json answer with this status and the `type` ending in `code`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let body = self.json();
        let kind = body["type"].as_str().unwrap_or_default();
        assert!(
            kind.ends_with(code),
            "problem type {kind} does not end in {code}"
        );
        assert_eq!(body["status"], status);
        body
    }

    /// Asserts a 401 for a request without a bearer token: a bare challenge (RFC 6750 section 3.1).
    #[track_caller]
    pub fn assert_no_token(&self) {
        self.assert_problem(401, "unauthorized");
        assert_eq!(
            self.header("www-authenticate").as_deref(),
            Some("Bearer realm=\"planpro-privacy\"")
        );
    }

    /// Asserts a 401 for a refused token: `error="invalid_token"` with the problem's detail as
    /// `error_description` (RFC 6750 section 3).
    #[track_caller]
    pub fn assert_invalid_token(&self) {
        let detail = self.assert_problem(401, "unauthorized")["detail"]
            .as_str()
            .unwrap_or_default()
            .replace('"', "'");
        assert_eq!(
            self.header("www-authenticate"),
            Some(format!(
                "Bearer realm=\"planpro-privacy\", error=\"invalid_token\", error_description=\"{detail}\""
            ))
        );
    }

    /// Asserts a 403 for a token without `scope`, with its challenge (RFC 6750 section 3.1).
    #[track_caller]
    pub fn assert_missing_scope(&self, scope: &str) {
        self.assert_problem(403, "insufficient-scope");
        assert_eq!(
            self.header("www-authenticate"),
            Some(format!(
                "Bearer realm=\"planpro-privacy\", error=\"insufficient_scope\", scope=\"{scope}\""
            ))
        );
    }

    /// The fields named by a validation problem, sorted.
    pub fn bad_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort();
        fields
    }
}
