//! Stand-in servers on a local port for the integration tests: a webhook
//! receiver (I8) and the Graph API (I6). Each records what it was sent and
//! answers with the statuses it was told to, in order (the last one repeats).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Seen {
    #[allow(dead_code)]
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A fixed answer: (path, part of the query or "", status, body).
type Fixed = (String, String, u16, String);

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Vec<(u16, String)>>>,
    /// Fixed answers by path (and, when not empty, a part of the query
    /// the request must hold), before the script; the first match answers.
    by_path: Arc<Mutex<Vec<Fixed>>>,
}

pub struct StandIn {
    pub base: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

async fn answer(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fixed = s
        .by_path
        .lock()
        .unwrap()
        .iter()
        .find(|(p, q, _, _)| {
            *p == uri.path() && uri.query().unwrap_or_default().contains(q.as_str())
        })
        .map(|(_, _, st, b)| (*st, b.clone()));
    s.seen.lock().unwrap().push(Seen {
        method,
        uri,
        headers,
        body,
    });
    let (status, body) = if let Some(f) = fixed {
        f
    } else {
        let mut script = s.script.lock().unwrap();
        if script.len() > 1 {
            script.remove(0)
        } else {
            script.first().cloned().unwrap_or((200, String::new()))
        }
    };
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

impl StandIn {
    /// Starts a stand-in answering `script` in order, the last one after.
    pub async fn start(script: Vec<(u16, String)>) -> StandIn {
        let shared = Shared::default();
        *shared.script.lock().unwrap() = script;
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn { base, shared, task }
    }

    /// Answers `path` always with `status` and `body` (the script answers
    /// the other paths).
    #[allow(dead_code)]
    pub fn answer_path(&self, path: &str, status: u16, body: &str) {
        self.answer_path_with(path, "", status, body);
    }

    /// Answers `path` with `status` and `body` when its query holds `query`
    /// (an access token, say); answers set first win.
    #[allow(dead_code)]
    pub fn answer_path_with(&self, path: &str, query: &str, status: u16, body: &str) {
        self.shared.by_path.lock().unwrap().push((
            path.to_owned(),
            query.to_owned(),
            status,
            body.to_owned(),
        ));
    }

    /// The requests to `path` so far.
    #[allow(dead_code)]
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.uri.path() == path)
            .collect()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Waits (in real time) until `n` requests to `path` arrived; `tick`
    /// runs between looks.
    #[allow(dead_code)]
    pub async fn wait_at(&self, path: &str, n: usize, secs: u64, tick: impl Fn()) -> Vec<Seen> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let seen = self.seen_at(path);
            if seen.len() >= n || std::time::Instant::now() > until {
                return seen;
            }
            tick();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits (in real time) until `n` requests arrived; `tick` runs between
    /// looks (to move the app's clock on, say).
    pub async fn wait_for(&self, n: usize, secs: u64, tick: impl Fn()) -> Vec<Seen> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let seen = self.seen();
            if seen.len() >= n || std::time::Instant::now() > until {
                return seen;
            }
            tick();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}
