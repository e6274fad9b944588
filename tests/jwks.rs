//! Keys from an identity provider: a real JWKS server on loopback, keys rotated without a
//! restart, tokens without `kid` refused, and the last good set kept while the server is down.

use crate::harness::{test_config, TestApp, TestDb};
use actix_web::test::TestRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use planpro_privacy::config::{JwksConfig, JwksSource, JwtKey};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A JWKS endpoint serving whatever set it is given, counting its fetches.
pub struct JwksServer {
    pub url: String,
    body: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl JwksServer {
    pub fn start(keys: &[Value]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let body = Arc::new(Mutex::new(json!({ "keys": keys }).to_string()));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, h, s) = (body.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            // Dropping the listener on stop makes the port refuse connections: a real outage.
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let mut request = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => request.extend_from_slice(&buf[..n]),
                            }
                        }
                        h.fetch_add(1, Ordering::SeqCst);
                        let body = b.lock().unwrap().clone();
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            url,
            body,
            hits,
            stop,
        }
    }

    fn serve(&self, keys: &[Value]) {
        *self.body.lock().unwrap() = json!({ "keys": keys }).to_string();
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A signing key of the identity provider: its private PEM and its public JWK.
pub struct IdpKey {
    kid: String,
    algorithm: Algorithm,
    private_pem: Vec<u8>,
    pub jwk: Value,
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}");
    out.stdout
}

/// A fresh Ed25519 (EdDSA) or P-256 (ES256) key pair.
pub fn idp_key(kid: &str, algorithm: Algorithm) -> IdpKey {
    let dir = crate::harness::scratch("jwks");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.pem");
    let path = path.to_str().unwrap();
    let spec: &[&str] = match algorithm {
        Algorithm::EdDSA => &["-algorithm", "ed25519"],
        _ => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    };
    let mut args = vec!["genpkey"];
    args.extend_from_slice(spec);
    args.extend_from_slice(&["-out", path]);
    openssl(&args);
    let private_pem = std::fs::read(path).unwrap();
    let der = openssl(&["pkey", "-in", path, "-pubout", "-outform", "DER"]);
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let jwk = match algorithm {
        Algorithm::EdDSA => json!({
            "kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
            "x": b64(&der[der.len() - 32..]),
        }),
        _ => {
            let point = &der[der.len() - 64..];
            json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                "x": b64(&point[..32]), "y": b64(&point[32..]),
            })
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    IdpKey {
        kid: kid.to_owned(),
        algorithm,
        private_pem,
        jwk,
    }
}

impl IdpKey {
    /// A token with these claims, naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        let key = match self.algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&self.private_pem),
            _ => EncodingKey::from_ec_pem(&self.private_pem),
        }
        .unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn token_with_kid(&self, kid: Option<&str>) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = kid.map(str::to_owned);
        let key = match self.algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&self.private_pem),
            _ => EncodingKey::from_ec_pem(&self.private_pem),
        }
        .unwrap();
        let exp = chrono::Utc::now().timestamp() + 600;
        let claims = json!({"sub": "idp-user", "exp": exp, "scope": "access-logs:read"});
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn token(&self) -> String {
        self.token_with_kid(Some(&self.kid))
    }
}

async fn app_on(server: &JwksServer, refresh: Duration) -> TestApp {
    let db = TestDb::new();
    let config = test_config(&db.url);
    let key = JwtKey::Jwks(JwksConfig {
        source: JwksSource::Url(server.url.clone()),
        refresh,
    });
    TestApp::on(db, &config, &key).await
}

async fn status_with(app: &TestApp, token: &str) -> (u16, String) {
    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/access-logs")
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    (res.status.as_u16(), res.json()["detail"].to_string())
}

#[actix_web::test]
async fn keys_rotate_without_a_restart_and_a_token_without_kid_is_refused() {
    let a = idp_key("key-a", Algorithm::EdDSA);
    let b = idp_key("key-b", Algorithm::ES256);
    let server = JwksServer::start(std::slice::from_ref(&a.jwk));
    let app = app_on(&server, Duration::from_secs(300)).await;
    assert_eq!(server.hits(), 1, "the set is fetched at start");
    assert_eq!(status_with(&app, &a.token()).await.0, 200);

    let (status, detail) = status_with(&app, &a.token_with_kid(None)).await;
    assert_eq!(status, 401);
    assert!(detail.contains("kid"), "{detail}");

    // The provider rotates: the new key's first token fetches the set again, and works.
    server.serve(std::slice::from_ref(&b.jwk));
    assert_eq!(status_with(&app, &b.token()).await.0, 200);
    assert_eq!(server.hits(), 2);
    // The retired key is refused; within 30 s its unknown kid fetches nothing more.
    let started = Instant::now();
    let (status, detail) = status_with(&app, &a.token()).await;
    assert_eq!(status, 401, "{detail}");
    assert!(detail.contains("kid"), "{detail}");
    assert_eq!(
        status_with(&app, &idp_key("key-c", Algorithm::EdDSA).token())
            .await
            .0,
        401
    );
    assert_eq!(
        server.hits(),
        2,
        "at most one fetch on unknown kid per 30 s"
    );
    assert!(started.elapsed() < Duration::from_secs(1));

    // A token signed with HS256 naming a real kid is refused: the key fixes the algorithm.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("key-b".into());
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"sub": "mallory", "exp": chrono::Utc::now().timestamp() + 600, "scope": "access-logs:read"}),
        &EncodingKey::from_secret(b.jwk.to_string().as_bytes()),
    )
    .unwrap();
    assert_eq!(status_with(&app, &forged).await.0, 401);
}

#[actix_web::test]
async fn the_set_is_refreshed_on_schedule_and_kept_while_the_server_is_down() {
    let a = idp_key("key-a", Algorithm::EdDSA);
    let c = idp_key("key-c", Algorithm::ES256);
    let server = JwksServer::start(std::slice::from_ref(&a.jwk));
    let app = app_on(&server, Duration::from_millis(200)).await;
    assert_eq!(status_with(&app, &a.token()).await.0, 200);
    server.serve(&[a.jwk.clone(), c.jwk.clone()]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.hits() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.hits() >= 3, "scheduled fetches: {}", server.hits());
    assert_eq!(status_with(&app, &c.token()).await.0, 200);

    // A set with no usable key is not taken: the last good one stays.
    server.serve(&[json!({"kty": "oct", "kid": "x", "k": "c2VjcmV0"})]);
    let seen = server.hits();
    while server.hits() < seen + 2 && Instant::now() < deadline + Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status_with(&app, &a.token()).await.0, 200);

    server.stop();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(status_with(&app, &a.token()).await.0, 200);
    assert_eq!(status_with(&app, &c.token()).await.0, 200);
    // An unknown kid while the server is down: refused within the 2 s the fetch may take.
    let started = Instant::now();
    let (status, _) = status_with(&app, &idp_key("key-d", Algorithm::EdDSA).token()).await;
    assert_eq!(status, 401);
    assert!(started.elapsed() < Duration::from_millis(2500));
}

#[test]
fn a_key_set_beside_another_key_or_over_plain_http_is_a_start_up_error() {
    use planpro_privacy::config::Config;
    use std::collections::HashMap;
    let config = |pairs: &[(&str, &str)]| {
        let source: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("DATABASE_URL".to_owned(), "postgres://x".to_owned())])
            .collect();
        Config::from_source(&source).map_err(|e| e.to_string())
    };
    let secret = "0123456789abcdef0123456789abcdef";
    let err = config(&[
        ("JWT_JWKS_URL", "https://idp.example.ee/jwks"),
        ("JWT_SECRET", secret),
    ])
    .unwrap_err();
    assert!(
        err.contains("JWT_JWKS_URL") && err.contains("JWT_SECRET"),
        "{err}"
    );
    assert!(!err.contains(secret));
    let err = config(&[("JWT_JWKS_URL", "http://idp.example.ee/jwks")]).unwrap_err();
    assert!(
        err.contains("JWT_JWKS_URL: expected an https:// URL"),
        "{err}"
    );
    let err = config(&[
        ("JWT_JWKS_URL", "https://idp.example.ee/jwks"),
        ("JWT_JWKS_REFRESH_S", "1"),
    ])
    .unwrap_err();
    assert!(
        err.contains("JWT_JWKS_REFRESH_S: expected a whole number from 10 to 86400"),
        "{err}"
    );
    let ok = config(&[("JWT_JWKS_URL", "http://127.0.0.1:9/jwks")]).unwrap();
    assert!(
        matches!(ok.jwt_key, Some(JwtKey::Jwks(JwksConfig { refresh, .. })) if refresh == Duration::from_secs(300))
    );
}
