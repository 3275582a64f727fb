//! HTTP helpers: act as a user over the API.

use crate::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

/// A response: status, headers and the body as JSON (Null when not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The `field` named by a problem+json answer.
    pub fn field(&self) -> Option<&str> {
        self.body.get("field").and_then(Value::as_str)
    }

    pub fn problem_type(&self) -> Option<&str> {
        self.body
            .get("type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('/').next().unwrap_or(t))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub token: String,
    pub email: String,
    pub password: String,
    pub user_id: i64,
    pub account_id: Option<i64>,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let delete = method == Method::DELETE;
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match body {
            // No DELETE takes a body (I9): its choices go as query
            // parameters, and 2FA's proofs as headers.
            Some(b) if delete => req = delete_choices(req, path, &b),
            Some(b) => req = req.json(&b),
            None => {}
        }
        let resp = req.send().await.expect("request sent");
        Self::read(resp).await
    }

    pub async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Resp {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// A DELETE with choices (`{"clients": "delete"}`): sent as query
    /// parameters, or as headers for `/api/v1/me/2fa`.
    pub async fn delete_json(&self, token: &str, path: &str, body: Value) -> Resp {
        self.call(Method::DELETE, path, Some(token), Some(body))
            .await
    }

    /// Delivers the lead `body` (JSON) to the webhook at `url`, signed with
    /// `secret` as a sender holding it would sign (I1), with `extra`
    /// headers.
    pub async fn deliver_signed(
        &self,
        url: &str,
        secret: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> Resp {
        let sig = format!(
            "sha256={}",
            leadteam_domain::secret::hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
        );
        let mut req = self
            .http
            .post(url)
            .header("x-leadteam-signature", sig)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Signs up a new account owned by `email`: asks for it, follows the
    /// link of the confirmation mail, and is signed in.
    pub async fn signup(&self, account: &str, name: &str, email: &str) -> User {
        let r = self
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({"account_name": account, "name": name, "email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 202, "signup failed: {}", r.text);
        let r = self.confirm_signup(email).await;
        assert_eq!(r.status, 201, "signup confirmation failed: {}", r.text);
        User {
            token: r.body["token"].as_str().expect("token").to_owned(),
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            user_id: r.body["user_id"].as_i64().expect("user id"),
            account_id: r.body["account_id"].as_i64(),
        }
    }

    /// Follows the link of the next sign-up mail to `email`; the raw answer.
    pub async fn confirm_signup(&self, email: &str) -> Resp {
        // The next mail to `email` with a sign-up link (notes without one,
        // such as "someone tried to sign up", are passed over).
        let link = loop {
            let mail = self
                .wait_for_mail(email, std::time::Duration::from_secs(10))
                .await;
            if let Some(link) = crate::links_in(&mail.body)
                .into_iter()
                .find(|l| l.contains("/signup/confirm?token="))
            {
                break link;
            }
        };
        let token = link.rsplit("token=").next().unwrap_or_default().to_owned();
        self.call(
            Method::POST,
            "/api/v1/signup/confirm",
            None,
            Some(json!({ "token": token })),
        )
        .await
    }

    /// Signs in; returns the raw response.
    pub async fn signin(&self, email: &str, password: &str, totp: Option<&str>) -> Resp {
        let mut body = json!({"email": email, "password": password});
        if let Some(code) = totp {
            body["totp_code"] = json!(code);
        }
        self.call(Method::POST, "/api/v1/sessions", None, Some(body))
            .await
    }

    /// Signs in and returns the bearer token, asserting success.
    pub async fn signin_ok(&self, email: &str, password: &str) -> String {
        let r = self.signin(email, password, None).await;
        assert_eq!(r.status, 201, "signin failed: {}", r.text);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Counts the rows of a table (for "nothing changed" checks).
    pub async fn count(&self, table: &str) -> i64 {
        let mut c = self.db.conn().await.expect("conn");
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *c)
            .await
            .expect("count")
    }
}

/// A server-sent events stream being read in the background.
pub struct EventStream {
    rx: tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// Opens `path` as a server-sent events stream with `token`.
    pub async fn events(&self, token: &str, path: &str) -> EventStream {
        use futures::StreamExt;
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream opens");
        assert_eq!(resp.status(), 200, "stream refused");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let mut event = String::from("message");
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(e) = line.strip_prefix("event:") {
                            event = e.trim().to_owned();
                        } else if let Some(d) = line.strip_prefix("data:") {
                            data.push_str(d.trim_start());
                        }
                    }
                    if !data.is_empty() && tx.send((event, data)).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.send(("closed".to_owned(), String::new()));
        });
        EventStream { rx, task }
    }
}

impl EventStream {
    /// The next event within `ms` milliseconds: (event name, data).
    pub async fn next_within(&mut self, ms: u64) -> Option<(String, String)> {
        tokio::time::timeout(std::time::Duration::from_millis(ms), self.rx.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The choices of a DELETE as the API takes them: query parameters, or the
/// `Leadteam-*` headers of `DELETE /api/v1/me/2fa`.
fn delete_choices(
    mut req: reqwest::RequestBuilder,
    path: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let Some(obj) = body.as_object() else {
        return req;
    };
    if path == "/api/v1/me/2fa" {
        for (k, v) in obj {
            let name = match k.as_str() {
                "password" => "leadteam-password",
                "code" => "leadteam-totp-code",
                "recovery_code" => "leadteam-recovery-code",
                other => other,
            };
            req = req.header(name, text(v));
        }
        return req;
    }
    let pairs: Vec<(String, String)> = obj
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    req.query(&pairs)
}
