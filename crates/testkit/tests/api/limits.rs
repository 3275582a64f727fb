//! The server protects itself (X7): slow header senders and idle keep-alive
//! connections are cut after their timeouts, connections are capped in
//! total and per client address, live streams in total and per member; a
//! live stream is never cut as idle. Short timeouts and small caps make the
//! tests quick; production defaults are in `leadteam_web::Limits`.

use super::support::join;
use leadteam_testkit::{Options, TestApp, both_engines_with};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn options(limits: leadteam_web::Limits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

/// Header timeout 1 s, idle timeout 3 s.
fn short_timeouts() -> Options {
    options(leadteam_web::Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(3),
        ..Options::default().limits
    })
}

/// Four connections in all, no cap per address.
fn four_connections() -> Options {
    options(leadteam_web::Limits {
        max_connections: 4,
        max_connections_per_address: 0,
        ..Options::default().limits
    })
}

/// Two connections per address.
fn two_per_address() -> Options {
    options(leadteam_web::Limits {
        max_connections: 0,
        max_connections_per_address: 2,
        ..Options::default().limits
    })
}

/// Idle timeout 1 s; two streams per member, three in all.
fn few_streams() -> Options {
    options(leadteam_web::Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_streams: 3,
        max_streams_per_member: 2,
        ..Options::default().limits
    })
}

both_engines_with!(super::short_timeouts();
    r_x7_a_slow_header_sender_is_cut_after_the_header_timeout,
    r_x7_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout,
);
both_engines_with!(super::four_connections();
    r_x7_connections_over_the_cap_are_refused_while_earlier_ones_stay_served,
);
both_engines_with!(super::two_per_address();
    r_x7_connections_over_the_cap_of_an_address_are_refused_with_429,
);
both_engines_with!(super::few_streams();
    r_x7_a_live_stream_stays_open_past_the_idle_timeout,
    r_x7_streams_over_the_caps_get_429_and_their_places_come_back,
);

const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n";

/// Reads one response to `GET /healthz` (its status line and body "ok").
async fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).ends_with("\r\n\r\nok") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Waits until the server closes `s` (a read answers end of file or a
/// reset); how long that took.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("still open after {limit:?}"),
        }
    }
}

async fn served(app: &TestApp, s: &mut TcpStream) {
    s.write_all(GET).await.unwrap();
    let r = read_response(s).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let _ = app;
}

async fn r_x7_a_slow_header_sender_is_cut_after_the_header_timeout(app: &TestApp) {
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    let start = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n")
        .await
        .unwrap();
    // One header byte every 200 ms, never the blank line that ends them.
    let mut cut = None;
    for i in 0..40 {
        if slow.write_all(b"x").await.is_err() {
            cut = Some(start.elapsed());
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(r) = tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await {
            assert!(
                matches!(r, Ok(0) | Err(_)),
                "no answer to a header not sent"
            );
            cut = Some(start.elapsed());
            break;
        }
        assert!(i < 39, "a slow header sender was never cut");
    }
    let cut = cut.unwrap();
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_millis(2_500),
        "cut after {cut:?}, the header timeout is 1 s"
    );
    // A connection that sends nothing at all is cut too.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let took = closed_within(&mut silent, Duration::from_secs(3)).await;
    assert!(took >= Duration::from_millis(900), "{took:?}");
    // Meanwhile a normal client is served.
    let mut ok = TcpStream::connect(app.addr).await.unwrap();
    served(app, &mut ok).await;
}

async fn r_x7_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(app: &TestApp) {
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    served(app, &mut s).await;
    // Idle for longer than the header timeout (1 s), less than the idle
    // timeout (3 s): the connection is kept and serves the next request.
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    served(app, &mut s).await;
    let took = closed_within(&mut s, Duration::from_secs(6)).await;
    assert!(
        took >= Duration::from_millis(2_800) && took < Duration::from_millis(4_500),
        "closed after {took:?} idle, the idle timeout is 3 s"
    );
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("leadteam_connections_cut_total{reason=\"idle_timeout\"} 1"),
        "{text}"
    );
}

async fn r_x7_connections_over_the_cap_are_refused_while_earlier_ones_stay_served(app: &TestApp) {
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        served(app, &mut s).await;
        held.push(s);
    }
    // The fifth is answered 503 and closed.
    let mut over = TcpStream::connect(app.addr).await.unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), over.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("maximum of 4 connections"), "{answer}");
    // The four earlier ones are still served.
    for s in &mut held {
        served(app, s).await;
    }
    // One goes; its place comes back.
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(GET).await.unwrap();
        let mut buf = [0u8; 16];
        if s.read_exact(&mut buf).await.is_ok() && buf.starts_with(b"HTTP/1.1 200") {
            again = Some(s);
            break;
        }
    }
    assert!(again.is_some(), "the freed place was never given again");
}

async fn r_x7_connections_over_the_cap_of_an_address_are_refused_with_429(app: &TestApp) {
    let mut a = TcpStream::connect(app.addr).await.unwrap();
    let mut b = TcpStream::connect(app.addr).await.unwrap();
    served(app, &mut a).await;
    served(app, &mut b).await;
    let mut c = TcpStream::connect(app.addr).await.unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), c.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer:?}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    served(app, &mut a).await;
    served(app, &mut b).await;
}

async fn r_x7_a_live_stream_stays_open_past_the_idle_timeout(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut stream = app
        .events(&owner.token, "/api/v1/notifications/stream")
        .await;
    // Three idle timeouts pass without an event.
    assert!(stream.next_within(3_200).await.is_none());
    let src = super::intake::source(app, &owner, "webhook", "Zapier").await;
    let r = super::intake::deliver(app, &src, r#"{"name":"Late Lead"}"#, &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (event, data) = stream.next_within(5_000).await.expect("the alert arrives");
    assert_eq!(event, "notification");
    assert!(data.contains("Late Lead"), "{data}");
}

async fn stream_status(app: &TestApp, token: &str) -> (u16, Option<reqwest::Response>) {
    let resp = app
        .http
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        (status, Some(resp))
    } else {
        let r = TestApp::read(resp).await;
        assert_eq!(r.problem_type(), Some("too-many-streams"), "{}", r.text);
        assert_eq!(r.header("retry-after"), Some("5"));
        (status, None)
    }
}

async fn metric(app: &TestApp, name: &str) -> String {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_default()
        .to_owned()
}

async fn r_x7_streams_over_the_caps_get_429_and_their_places_come_back(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (s1, r1) = stream_status(app, &owner.token).await;
    let (s2, _r2) = stream_status(app, &owner.token).await;
    assert_eq!((s1, s2), (200, 200));
    // The owner's third: over the cap of a member.
    assert_eq!(stream_status(app, &owner.token).await.0, 429);
    // Another member has places of its own, up to the total of three.
    let (s3, _r3) = stream_status(app, &bob.token).await;
    assert_eq!(s3, 200);
    assert_eq!(metric(app, "leadteam_streams_open").await, "3");
    assert_eq!(stream_status(app, &bob.token).await.0, 429, "total cap");
    // A stream closed gives its place back.
    drop(r1);
    let mut reopened = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let (200, Some(r)) = stream_status(app, &owner.token).await {
            reopened = true;
            drop(r);
            break;
        }
    }
    assert!(reopened, "the place of a closed stream never came back");
}

/// A stopping server closes its live streams at once (without the `end`
/// event that tells a page to stop listening), so the drain does not wait
/// for them.
async fn streams_close_when_the_server_stops(engine: leadteam_testkit::Engine) {
    let Some(app) = leadteam_testkit::spawn_app(engine).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let resp = app
        .http
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = tokio::spawn(async move { resp.text().await.unwrap_or_default() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    app.stop().await;
    let text = tokio::time::timeout(Duration::from_secs(3), body)
        .await
        .expect("the stream ends with the server")
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(text.contains("retry: 2000"), "{text:?}");
    assert!(!text.contains("event: end"), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_x7_a_stopping_server_closes_its_live_streams_at_once_sqlite() {
    streams_close_when_the_server_stops(leadteam_testkit::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_x7_a_stopping_server_closes_its_live_streams_at_once_postgres() {
    streams_close_when_the_server_stops(leadteam_testkit::Engine::Postgres).await;
}
