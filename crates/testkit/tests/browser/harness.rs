//! Real headless Chromium, driven over WebDriver (`/usr/bin/chromedriver`)
//! with fantoccini. `Browser::start` returns `None` with a loud SKIP when
//! Chromium or chromedriver is missing, unless `LEADTEAM_REQUIRE_BROWSER=1`
//! (set by `.ci/run`), which makes it a failure.
//!
//! Every page a test visits is saved as a PNG under
//! `$CARGO_TARGET_DIR/screenshots/<test>/<nn>-<page>.png` (`target/` when
//! CARGO_TARGET_DIR is not set) for a reviewer to look at.
//!
//! One browser runs at a time (the machine has two cores; parallel Chromiums
//! make timings flaky): `start` waits for the previous test's browser.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

static TURN: Mutex<()> = Mutex::const_new(());

pub struct Browser {
    pub c: Client,
    base: String,
    shots: PathBuf,
    n: u32,
    driver: tokio::process::Child,
    driver_port: u16,
    session: Option<String>,
    _turn: MutexGuard<'static, ()>,
}

fn screenshots_root() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => {
            let t = PathBuf::from(t);
            if t.is_absolute() {
                t
            } else {
                workspace.join(t)
            }
        }
        None => workspace.join("target"),
    };
    target.join("screenshots")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session for the test
    /// `test`, whose pages are served at `base`.
    pub async fn start(test: &str, base: &str) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMEDRIVER, CHROMIUM]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            if std::env::var("LEADTEAM_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!(
                    "LEADTEAM_REQUIRE_BROWSER=1 but {missing:?} is missing: \
                     apt-get install chromium chromium-driver (or run .ci/install)"
                );
            }
            eprintln!(
                "\n*** SKIPPING browser test `{test}`: {missing:?} not installed. \
                 Install with `apt-get install chromium chromium-driver`; \
                 LEADTEAM_REQUIRE_BROWSER=1 turns this skip into a failure. ***\n"
            );
            return None;
        }
        let turn = TURN.lock().await;
        let port = free_port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900"
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let c = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session from chromedriver");
        let session = c.session_id().await.ok().flatten();
        let shots = screenshots_root().join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("create the screenshot folder");
        Some(Browser {
            c,
            base: base.to_owned(),
            shots,
            n: 0,
            driver,
            driver_port: port,
            session,
            _turn: turn,
        })
    }

    /// Ends the Chromium session and chromedriver.
    pub async fn finish(mut self) {
        let _ = self.c.clone().close().await;
        self.session = None;
        let _ = self.driver.kill().await;
    }

    pub async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// Saves a screenshot of the whole page as `<nn>-<page>.png` (the window
    /// is made as tall as the page for the shot).
    pub async fn shot(&mut self, page: &str) {
        self.n += 1;
        let (w, h) = self.c.get_window_size().await.expect("window size");
        let sizes = self
            .c
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight];",
                vec![],
            )
            .await
            .expect("page height");
        let extra = sizes[0]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(sizes[1].as_u64().unwrap_or(0));
        let tall = extra > 0;
        if tall {
            let to = (h + extra).min(5000) as u32;
            self.c.set_window_size(w as u32, to).await.expect("resize");
        }
        let png = self.c.screenshot().await.expect("screenshot");
        if tall {
            self.c
                .set_window_size(w as u32, h as u32)
                .await
                .expect("resize back");
        }
        let file = self.shots.join(format!("{:02}-{page}.png", self.n));
        std::fs::write(&file, png).expect("write the screenshot");
    }

    /// Sets the window's size: a phone is about 390 × 844, the default
    /// desktop 1280 × 900.
    pub async fn resize(&self, width: u32, height: u32) {
        self.c
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }

    /// Waits for an element to be on the page.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .c
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no `{css}` on {}: {e}", self.path_now().await),
        }
    }

    /// Types `text` into the input `css` (emptied first).
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.expect("clear input");
        e.send_keys(text).await.expect("type");
    }

    /// Sets the value of a date or time input (what typing gives, without
    /// the keystrokes of the browser's locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.c
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![json!(css), json!(value)],
            )
            .await
            .expect("set a value");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Whether the first `css` element is there and can be seen: the
    /// browser's own `checkVisibility` (WebDriver's "displayed" does not know
    /// that a style can show the content of a closed `<details>`).
    pub async fn visible(&self, css: &str) -> bool {
        self.c
            .execute(
                "const e = document.querySelector(arguments[0]);
                 return !!e && e.checkVisibility({visibilityProperty: true, opacityProperty: true});",
                vec![json!(css)],
            )
            .await
            .expect("check visibility")
            .as_bool()
            .unwrap_or(false)
    }

    /// Follows the main navigation to `href` as a person does: opens the
    /// Menu button (on a phone) and the menu holding the link, then clicks it.
    pub async fn nav(&self, href: &str) {
        let link = format!("nav.main-nav a[href='{href}']");
        self.find(&link).await;
        if !self.visible(&link).await && self.visible("nav.main-nav .nav-button").await {
            self.click("nav.main-nav .nav-button").await;
        }
        if !self.visible(&link).await {
            let summary = self
                .c
                .find(Locator::XPath(&format!(
                    "//nav[contains(@class,'main-nav')]//details[@data-nav-group][.//a[@href='{href}']]/summary"
                )))
                .await
                .unwrap_or_else(|e| panic!("no menu holds {href}: {e}"));
            summary.click().await.expect("open the menu");
        }
        assert!(
            self.visible(&link).await,
            "{href} cannot be seen in the navigation"
        );
        self.click(&link).await;
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    /// The path (and query) of the page shown.
    pub async fn path_now(&self) -> String {
        match self.c.current_url().await {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            },
            Err(e) => format!("<no url: {e}>"),
        }
    }

    /// Waits until the text of `css` contains `expected` (the next page has
    /// loaded, or htmx has swapped it in).
    pub async fn wait_text(&self, css: &str, expected: &str) {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.c.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
                && t.contains(expected)
            {
                return;
            }
            if started.elapsed() > PATIENCE {
                let body = match self.c.find(Locator::Css("body")).await {
                    Ok(b) => b.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!(
                    "`{css}` never showed {expected:?} on {}; the page says:\n{body}",
                    self.path_now().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page shown is `path` (with its query, if any).
    pub async fn wait_path(&self, path: &str) {
        let started = Instant::now();
        while self.path_now().await != path {
            assert!(
                started.elapsed() < PATIENCE,
                "expected to be on {path}, still on {}",
                self.path_now().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    /// A failed test did not `finish`: end the Chromium session with a plain
    /// HTTP call so no browser is left running, then chromedriver goes with
    /// its `kill_on_drop`.
    fn drop(&mut self) {
        let Some(id) = self.session.take() else {
            return;
        };
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.driver_port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
    }
}
