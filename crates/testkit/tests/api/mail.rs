//! Mail delivery through the outbox (issue 3, item 2): a queued message goes
//! out once and is marked sent; failures are retried with backoff and given
//! up on after the last attempt; a worker that died mid-send or a restart
//! loses nothing; two workers on one database never send a message twice.
//! The delivery through a real SMTP server is in `smtp.rs`.

use leadteam_mail::{BoxFuture, Mailer, MailerConfig, Outgoing, RetryPolicy, SendError, Transport};
use leadteam_store::outbox::{self, ClaimOptions, NewMessage, Status};
use leadteam_testkit::{Clock, Engine, Options, TestApp, both_engines, link_in, spawn_with};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs `story(Engine)` as a `sqlite` and a `postgres` test.
macro_rules! engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(leadteam_testkit::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(leadteam_testkit::Engine::Postgres).await;
            }
        }
    )*};
}

/// Queues a message in its own transaction, as a use case does.
pub async fn enqueue(app: &TestApp, to: &str, subject: &str, body: &str) -> i64 {
    let mut tx = app.db.write().await.unwrap();
    let id = outbox::enqueue(
        &mut tx,
        NewMessage {
            account: None,
            to,
            subject,
            body_text: body,
            kind: "test",
            secret: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

pub async fn status(app: &TestApp, id: i64) -> Status {
    let mut c = app.db.conn().await.unwrap();
    outbox::status(&mut c, id).await.unwrap().unwrap()
}

/// Polls the outbox row until `ok` holds (the worker runs in the background).
pub async fn wait_status(
    app: &TestApp,
    id: i64,
    what: &str,
    ok: impl Fn(&Status) -> bool,
) -> Status {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = status(app, id).await;
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "waiting for {what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Gives the worker time to act (when checking that it does nothing).
pub async fn let_worker_run(waker: &dyn Fn()) {
    for _ in 0..3 {
        waker();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A transport that fails its first `fail_first` sends, then records each
/// delivery (shared between workers to count them).
#[derive(Clone, Default)]
pub struct Fake {
    fail_first: Arc<AtomicUsize>,
    pub delivered: Arc<Mutex<Vec<i64>>>,
    delay: Duration,
}

impl Fake {
    pub fn failing(n: usize) -> Fake {
        Fake {
            fail_first: Arc::new(AtomicUsize::new(n)),
            ..Fake::default()
        }
    }

    pub fn slow(delay: Duration) -> Fake {
        Fake {
            delay,
            ..Fake::default()
        }
    }

    pub fn delivered(&self) -> Vec<i64> {
        self.delivered.lock().unwrap().clone()
    }
}

impl Transport for Fake {
    fn send<'a>(&'a self, m: &'a Outgoing) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let failing = self
                .fail_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(SendError("421 4.3.2 try again later".into()));
            }
            assert!(
                String::from_utf8_lossy(&m.raw).contains("Subject: "),
                "a full message"
            );
            self.delivered.lock().unwrap().push(m.id);
            Ok(())
        })
    }

    fn describe(&self) -> String {
        "fake".into()
    }
}

fn spawn_worker(app: &TestApp, transport: Fake, config: MailerConfig) -> Mailer {
    let clock = app.clock.clone();
    Mailer::spawn(
        app.db.clone(),
        Arc::new(transport),
        Arc::new(move || clock.now()),
        config,
    )
}

/// App options whose worker sends with `transport` and retries by `retry`.
pub fn options_with(transport: Arc<dyn Transport>, retry: RetryPolicy) -> Options {
    let d = Options::default();
    Options {
        mail_transport: Some(transport),
        mailer: MailerConfig {
            retry,
            ..d.mailer.clone()
        },
        ..d
    }
}

fn quick() -> MailerConfig {
    MailerConfig {
        poll_interval: Duration::from_millis(50),
        ..MailerConfig::default()
    }
}

both_engines!(queued_mail_is_delivered_once_as_an_eml_file_and_marked_sent);

async fn queued_mail_is_delivered_once_as_an_eml_file_and_marked_sent(app: &TestApp) {
    let link = format!("{}/healthz?invite=Zm9vYmFy_-1", app.base);
    let body = format!(
        "Hello Bea,\n\nAnn invited you to Acme Ventes — à bientôt!\nAccept the invitation: {link}.\n\nThis link expires in 7 days.\n"
    );
    let subject = "Ann invited you to Acme Ventes ✓ (équipe)";
    let id = enqueue(app, "bea@example.com", subject, &body).await;
    app.wake_mailer();

    let mail = app
        .wait_for_mail("bea@example.com", Duration::from_secs(20))
        .await;
    assert_eq!(mail.id, Some(id));
    assert_eq!(mail.subject, subject);
    assert_eq!(mail.body, body);
    assert_eq!(mail.from, "leadteam <no-reply@localhost>");
    // The link in the message works for the recipient.
    assert_eq!(link_in(&mail.body), Some(link.clone()));
    let r = app
        .call(Method::GET, &link.replace(&app.base, ""), None, None)
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));

    // The file is an RFC 5322 message: CRLF lines, plain text in UTF-8.
    let raw = std::fs::read_to_string(app.mail_dir.join(format!("{id}.eml"))).unwrap();
    assert!(
        raw.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"),
        "{raw}"
    );
    assert!(raw.contains("\r\nDate: ") && raw.contains(&format!("Message-ID: <outbox.{id}.")));
    assert!(
        !raw.replace("\r\n", "").contains('\n'),
        "only CRLF line ends"
    );

    let s = status(app, id).await;
    assert_eq!(s.sent_at, Some(app.clock.now()));
    assert_eq!((s.attempts, s.locked_until, s.last_error), (1, None, None));

    // Waking the worker again sends nothing more.
    let_worker_run(&|| app.wake_mailer()).await;
    assert_eq!(app.mails().await.len(), 1);
    assert_eq!(status(app, id).await.attempts, 1);
}

engines!(failed_sends_are_retried_with_backoff_until_one_succeeds);

async fn failed_sends_are_retried_with_backoff_until_one_succeeds(engine: Engine) {
    let fake = Fake::failing(3);
    let opts = options_with(
        Arc::new(fake.clone()),
        RetryPolicy {
            first_delay_ms: 60_000,
            max_delay_ms: 3_600_000,
            max_attempts: 10,
        },
    );
    let Some(app) = spawn_with(engine, opts).await else {
        return;
    };
    let id = enqueue(&app, "bea@example.com", "Hi", "Hello").await;
    app.wake_mailer();

    // Each failure is recorded and the next try waits twice as long.
    let mut expected_delay = 60_000;
    for attempt in 1..=3 {
        let s = wait_status(&app, id, "a failed attempt", |s| {
            s.attempts == attempt && s.locked_until.is_none()
        })
        .await;
        let now = app.clock.now();
        assert_eq!(s.next_attempt_at, now.plus_millis(expected_delay));
        assert!(s.last_error.as_deref().unwrap().contains("421 4.3.2"));
        assert_eq!(s.sent_at, None);

        // Not tried again before its time ...
        app.clock.advance_ms(expected_delay - 1);
        let_worker_run(&|| app.wake_mailer()).await;
        assert_eq!(status(&app, id).await.attempts, attempt);
        // ... and tried again at its time.
        app.clock.advance_ms(1);
        app.wake_mailer();
        expected_delay *= 2;
    }
    let s = wait_status(&app, id, "the delivery", |s| s.sent_at.is_some()).await;
    assert_eq!(s.attempts, 4);
    assert_eq!(fake.delivered(), vec![id]);

    app.clock.advance_ms(86_400_000);
    let_worker_run(&|| app.wake_mailer()).await;
    assert_eq!(fake.delivered(), vec![id], "never sent twice");
    app.stop().await;
}

engines!(the_worker_gives_up_after_the_last_attempt_and_keeps_the_error);

async fn the_worker_gives_up_after_the_last_attempt_and_keeps_the_error(engine: Engine) {
    let fake = Fake::failing(usize::MAX);
    let opts = options_with(
        Arc::new(fake.clone()),
        RetryPolicy {
            first_delay_ms: 1_000,
            max_delay_ms: 1_000,
            max_attempts: 3,
        },
    );
    let Some(app) = spawn_with(engine, opts).await else {
        return;
    };
    let id = enqueue(&app, "bea@example.com", "Hi", "Hello").await;
    let bad = enqueue(&app, "not an address", "Hi", "Hello").await;
    app.wake_mailer();
    for attempt in 1..=3 {
        wait_status(&app, id, "a failed attempt", |s| {
            s.attempts == attempt && s.locked_until.is_none()
        })
        .await;
        app.clock.advance_ms(1_000);
        app.wake_mailer();
    }
    let s = wait_status(&app, id, "giving up", Status::gave_up).await;
    assert_eq!(s.attempts, 3);
    assert!(s.last_error.unwrap().contains("421"));
    // A message that cannot be built is given up on at once.
    let s = wait_status(&app, bad, "giving up", Status::gave_up).await;
    assert_eq!(s.attempts, 1);
    assert!(s.last_error.unwrap().contains("invalid recipient"));

    app.clock.advance_ms(30 * 86_400_000);
    let_worker_run(&|| app.wake_mailer()).await;
    assert_eq!(status(&app, id).await.attempts, 3, "never tried again");
    assert!(fake.delivered().is_empty());
    assert_eq!(app.count("outbox").await, 2, "the rows stay");
    app.stop().await;
}

engines!(a_message_claimed_by_a_dead_worker_or_queued_before_a_restart_goes_out_once);

async fn a_message_claimed_by_a_dead_worker_or_queued_before_a_restart_goes_out_once(
    engine: Engine,
) {
    let Some(app) = spawn_with(
        engine,
        Options {
            start_mailer: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let first = enqueue(&app, "bea@example.com", "One", "1").await;
    // A worker claims it and dies before sending.
    let claimed = outbox::claim_due(
        &app.db,
        app.clock.now(),
        ClaimOptions {
            limit: 10,
            lease_ms: 60_000,
            max_attempts: 10,
        },
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);

    let fake = Fake::default();
    let worker = spawn_worker(&app, fake.clone(), quick());
    let_worker_run(&|| worker.wake()).await;
    assert!(fake.delivered().is_empty(), "the lease is honoured");
    app.clock.advance_ms(60_000);
    worker.wake();
    let s = wait_status(&app, first, "the delivery", |s| s.sent_at.is_some()).await;
    assert_eq!(s.attempts, 2);

    // The server restarts: a message queued while it was down goes out, the
    // one already sent does not.
    worker.stop().await;
    let second = enqueue(&app, "bea@example.com", "Two", "2").await;
    let worker = spawn_worker(&app, fake.clone(), quick());
    worker.wake();
    wait_status(&app, second, "the delivery", |s| s.sent_at.is_some()).await;
    let_worker_run(&|| worker.wake()).await;
    assert_eq!(fake.delivered(), vec![first, second]);
    worker.stop().await;
    app.stop().await;
}

engines!(a_stopping_worker_gives_the_rest_of_its_batch_back);

async fn a_stopping_worker_gives_the_rest_of_its_batch_back(engine: Engine) {
    let Some(app) = spawn_with(
        engine,
        Options {
            start_mailer: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(enqueue(&app, "bea@example.com", &format!("m{i}"), "x").await);
    }
    let fake = Fake::slow(Duration::from_millis(150));
    let worker = spawn_worker(&app, fake.clone(), quick());
    worker.wake();
    wait_status(&app, ids[0], "the first delivery", |s| s.sent_at.is_some()).await;
    worker.stop().await;
    let sent = fake.delivered();
    assert!(sent.len() < 5, "stopped mid-batch: {sent:?}");
    for id in &ids[sent.len()..] {
        let s = status(&app, *id).await;
        assert_eq!(
            (s.attempts, s.locked_until, s.sent_at),
            (0, None, None),
            "{s:?}"
        );
    }
    // Another worker takes them at once, without waiting for a lease.
    let worker = spawn_worker(&app, fake.clone(), quick());
    worker.wake();
    wait_status(&app, ids[4], "the last delivery", |s| s.sent_at.is_some()).await;
    worker.stop().await;
    assert_eq!(fake.delivered(), ids);
    app.stop().await;
}

engines!(two_workers_on_one_database_never_send_a_message_twice);

async fn two_workers_on_one_database_never_send_a_message_twice(engine: Engine) {
    let Some(app) = spawn_with(
        engine,
        Options {
            start_mailer: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(enqueue(&app, &format!("m{i}@example.com"), "Hi", "Hello").await);
    }
    // Two workers (two server nodes) with small batches, woken together.
    let config = MailerConfig {
        batch: 3,
        ..quick()
    };
    let (a, b) = (
        Fake::slow(Duration::from_millis(2)),
        Fake::slow(Duration::from_millis(2)),
    );
    let wa = spawn_worker(&app, a.clone(), config.clone());
    let wb = spawn_worker(&app, b.clone(), config);
    wa.wake();
    wb.wake();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut c = app.db.conn().await.unwrap();
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        if sent == 50 {
            break;
        }
        assert!(Instant::now() < deadline, "{sent} of 50 sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let_worker_run(&|| {
        wa.wake();
        wb.wake();
    })
    .await;
    wa.stop().await;
    wb.stop().await;

    let mut count: HashMap<i64, usize> = HashMap::new();
    for id in a.delivered().into_iter().chain(b.delivered()) {
        *count.entry(id).or_default() += 1;
    }
    eprintln!(
        "{engine:?}: worker a sent {}, worker b sent {}",
        a.delivered().len(),
        b.delivered().len()
    );
    assert_eq!(count.len(), 50, "every message delivered");
    assert!(count.values().all(|n| *n == 1), "none twice: {count:?}");
    let mut c = app.db.conn().await.unwrap();
    let attempts: i64 = sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM outbox")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert_eq!(attempts, 50, "each claimed once");
    drop(c);
    app.stop().await;
}

#[test]
fn link_in_finds_the_first_http_link() {
    assert_eq!(
        link_in("Accept: https://lt.example/invitations/accept?token=abc.\nOr http://x/y"),
        Some("https://lt.example/invitations/accept?token=abc".into())
    );
    assert_eq!(link_in("no link"), None);
}
