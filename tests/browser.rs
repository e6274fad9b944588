//! A real browser for the page tests: Debian's `chromium` driven through `chromedriver` over
//! WebDriver, against the real app served on a loopback port. Nothing is mocked and nothing is
//! skipped: without the browser, the driver or the pinned axe-core, a test fails and says how
//! to get them.
//!
//! One browser test runs at a time (a 2-core machine runs a browser, its driver and the service
//! for each), and every wait is for a condition, with room for a loaded machine.

use crate::harness::{scratch, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one condition may take to come true.
pub const PATIENCE: Duration = Duration::from_secs(60);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AXE: &str = "tests/browser/axe/axe.min.js";

/// Browser tests one at a time, across the test threads.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The app on a loopback port, a chromedriver and a headless Chromium session.
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Option<Child>,
    server: actix_web::dev::ServerHandle,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

fn require(path: &str, what: &str) {
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: the browser tests need {what}. Install Debian's packages with \
         `apt-get install chromium chromium-driver` (.ci/run does)"
    );
}

/// Waits until `check` answers `Some`, polling; panics with `what` after [`PATIENCE`].
pub async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Browser {
    /// Serves `app` on a loopback port and opens a fresh browser with its own profile.
    pub async fn open(app: &TestApp) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        require(CHROMIUM, "Chromium");
        require(CHROMEDRIVER, "ChromeDriver");
        let state = app.state.clone();
        let server = actix_web::HttpServer::new(move || planpro_privacy::build_app(state.clone()))
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind the app to a loopback port");
        let addr: SocketAddr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that ending it ends the Chromium it started too.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let webdriver = format!("http://127.0.0.1:{port}");
        let profile = scratch("chromium-profile");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--no-first-run",
                    "--window-size=1100,1500",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        // The driver takes a moment to listen; the session, longer on a loaded machine.
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    log::debug!("no WebDriver session yet: {e}");
                    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromedriver started no Chromium session in {PATIENCE:?}: {e}"),
            }
        };
        Self {
            client,
            base: format!("http://{addr}"),
            driver: Some(driver),
            server: handle,
            _turn: turn,
        }
    }

    /// Opens `path` (with its fragment) on the app.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("open the page");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and answers its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("run a script")
    }

    /// Presses and releases one key (`fantoccini::key::Key` values for Tab and the like).
    pub async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(keys)
            .await
            .expect("press a key");
    }

    /// Presses Tab until the element with id `id` has the focus, as a keyboard user would.
    pub async fn tab_to(&self, id: &str) {
        for _ in 0..100 {
            let focused = self
                .js(
                    "return document.activeElement && document.activeElement.id;",
                    vec![],
                )
                .await;
            if focused == id {
                return;
            }
            self.press(fantoccini::key::Key::Tab.into()).await;
        }
        panic!("100 presses of Tab never reached #{id}");
    }

    /// Waits until no part of the page is still loading (`aria-busy`).
    pub async fn settled(&self) {
        until("every part of the page to load", move || async move {
            let busy = self
                .js(
                    "return document.querySelectorAll('[aria-busy=\"true\"]').length;",
                    vec![],
                )
                .await;
            (busy == 0).then_some(())
        })
        .await;
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.js("return document.body.innerText;", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the page's text holds `wanted`.
    pub async fn wait_for_text(&self, wanted: &str) {
        until(
            &format!("the page to show {wanted:?}"),
            move || async move { self.text().await.contains(wanted).then_some(()) },
        )
        .await;
    }

    /// Waits for the element `css` and answers it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waited for {css}: {e}"))
    }

    /// The URLs of every request the page made (resource timing keeps each fetch).
    pub async fn requests(&self) -> Vec<String> {
        let list = self
            .js(
                "return performance.getEntriesByType('resource').map(e => e.name);",
                vec![],
            )
            .await;
        serde_json::from_value(list).unwrap_or_default()
    }

    /// Runs axe-core on the page for WCAG 2.1 A and AA; answers each violation's id and nodes.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(AXE).unwrap_or_else(|e| {
            panic!(
                "{AXE} ({e}): the pinned axe-core is missing. Restore it from git, or fetch the \
                 version tests/browser/axe/README.md names: `npm pack axe-core@4.14.1` and copy \
                 package/axe.min.js there"
            )
        });
        // Injected by the driver, not by a <script> tag: the page's CSP allows only its own.
        self.js(&axe, vec![]).await;
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag',
                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                   .then(r => done(r.violations.map(v => v.id + ': ' +
                     v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(result).unwrap_or_else(|_| vec!["axe answered nothing".into()])
    }

    /// Saves a screenshot of the whole page as PNG (the window grown to the page's height).
    pub async fn full_page_screenshot(&self, path: &std::path::Path) {
        let height = self
            .js("return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(1500);
        let height = u32::try_from(height).unwrap_or(1500).clamp(600, 6000);
        self.client
            .set_window_size(1100, height + 120)
            .await
            .unwrap();
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).expect("write the screenshot");
        self.client.set_window_size(1100, 1500).await.unwrap();
    }

    /// Ends the driver's process group (the driver and the browser it started), once.
    fn end_driver(&mut self) {
        let Some(mut driver) = self.driver.take() else {
            return;
        };
        // Until it is waited for, the driver's id (its group's) cannot be taken by another.
        if let Ok(group) = i32::try_from(driver.id()) {
            // SAFETY: kill(2) on the group of a child this test started; no memory is shared.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = driver.wait();
    }

    /// Ends the session, the driver and the server.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.end_driver();
        self.server.stop(true).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches `close`: the driver and Chromium still end.
        self.end_driver();
    }
}
