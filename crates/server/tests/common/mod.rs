//! Running the built `leadteam` binary as a server (as an operator does)
//! and talking to it over HTTP.

#![allow(dead_code)]

use leadteam_domain::secret::hmac_sha256_hex;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery staple";

/// A `leadteam serve` process.
pub struct Node {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    /// The data folder (mail is written under `mail/` without SMTP).
    pub data: std::path::PathBuf,
}

impl Node {
    /// Starts `leadteam serve` on a free port of the loopback with the
    /// database `url` and the data folder `data`; waits until it answers.
    pub fn start(url: &str, data: &std::path::Path, extra: &[&str]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leadteam"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", url])
            .args(["--data-dir", &data.display().to_string()])
            .args(extra)
            .env("LEADTEAM_LOG", "warn")
            .env_remove("LEADTEAM_CONFIG")
            .env_remove("LEADTEAM_SMTP_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start leadteam serve");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("the server says where it listens");
        let start = line.find("http://").expect("an address");
        let base = line[start..]
            .split("/api/docs")
            .next()
            .expect("base")
            .to_owned();
        Node {
            child,
            base,
            data: data.to_path_buf(),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
        }
    }

    /// Another handle on the same server for HTTP only (no process).
    pub fn client(base: String, http: reqwest::Client) -> Client {
        Client { base, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, Some(token), path, Some(body))
            .await
    }

    /// Signs up an account (following the link of the confirmation mail,
    /// written under the data folder); the owner's token.
    pub async fn signup(&self, account: &str, email: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                None,
                "/api/v1/signup",
                Some(json!({"account_name": account, "name": "Owner", "email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let token = self.signup_token(email).await;
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                None,
                "/api/v1/signup/confirm",
                Some(json!({ "token": token })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// The token of the sign-up link mailed to `email`.
    async fn signup_token(&self, email: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for m in leadteam_testkit::read_mail_dir(&self.data.join("mail")) {
                if m.to.eq_ignore_ascii_case(email)
                    && let Some(link) = leadteam_testkit::links_in(&m.body)
                        .into_iter()
                        .find(|l| l.contains("/signup/confirm?token="))
                {
                    return link.rsplit("token=").next().unwrap_or_default().to_owned();
                }
            }
            assert!(Instant::now() < deadline, "no sign-up mail to {email}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn signin(&self, email: &str, password: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            None,
            "/api/v1/sessions",
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// A webhook source of the account; (its URL path, its secret).
    pub async fn source(&self, token: &str, name: &str) -> (String, String) {
        let (status, body) = self
            .post(
                token,
                "/api/v1/lead-sources",
                json!({"kind": "webhook", "name": name}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            format!("/hooks/{}", body["id"]),
            body["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Delivers a signed lead; the answer's status and body (or None when
    /// the connection failed: the server was gone).
    pub async fn lead(&self, hook: &(String, String), lead_id: &str) -> Option<(u16, Value)> {
        send_lead(&self.http, &self.base, hook, lead_id).await
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "SIGTERM sent");
    }

    /// Waits for the process to exit (at most `limit`); its exit status and
    /// how long that took.
    pub fn wait_exit(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return (s, start.elapsed());
            }
            assert!(start.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The invitation token of the newest mail to `to` in the outbox.
pub async fn invitation_token(mail_dir: &std::path::Path, to: &str) -> String {
    // Links are minted when the mail is sent: read the delivered message.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for m in leadteam_testkit::read_mail_dir(mail_dir).into_iter().rev() {
            if m.to.eq_ignore_ascii_case(to)
                && let Some(link) = leadteam_testkit::links_in(&m.body)
                    .into_iter()
                    .find(|l| l.contains("/invitations/accept?token="))
            {
                return link.rsplit("token=").next().unwrap_or_default().to_owned();
            }
        }
        assert!(Instant::now() < deadline, "no invitation mail to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Invites `email` as `role` and accepts; the member's token and id.
pub async fn join(
    node: &Node,
    db: &leadteam_store::Db,
    owner: &str,
    email: &str,
    role: &str,
) -> (String, i64) {
    let mut c = db.conn().await.expect("conn");
    // The tests that use this have one account.
    let role_id: i64 =
        sqlx::query_scalar("SELECT id FROM roles WHERE name = $1 ORDER BY id LIMIT 1")
            .bind(role)
            .fetch_one(&mut *c)
            .await
            .expect("role");
    drop(c);
    let (status, m) = node
        .post(
            owner,
            "/api/v1/invitations",
            json!({"name": email, "email": email, "role_id": role_id}),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let token = invitation_token(&node.data.join("mail"), email).await;
    let (status, body) = node
        .call(
            reqwest::Method::POST,
            None,
            "/api/v1/invitations/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["session"]["token"].as_str().expect("token").to_owned(),
        m["id"].as_i64().expect("member id"),
    )
}

/// An HTTP handle on a node (shared by tasks).
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub async fn lead(&self, hook: &(String, String), lead_id: &str) -> Option<(u16, Value)> {
        send_lead(&self.http, &self.base, hook, lead_id).await
    }
}

async fn send_lead(
    http: &reqwest::Client,
    base: &str,
    hook: &(String, String),
    lead_id: &str,
) -> Option<(u16, Value)> {
    let body = json!({"name": format!("Lead {lead_id}"), "lead_id": lead_id}).to_string();
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(hook.1.as_bytes(), body.as_bytes())
    );
    let resp = http
        .post(format!("{base}{}", hook.0))
        .header("x-leadteam-signature", sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    let text = resp.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}
