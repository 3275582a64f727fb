//! `leadteam admin` (issue 16): reset a password (read from standard
//! input; every session ends), turn 2FA off for a user who lost the device,
//! list the accounts, hand ownership on when the owner is gone. Each is in
//! the audit log as "system" (no actor); a refused command changes nothing;
//! a database newer (or older) than the binary is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadteam_store::testing::TestDb;
use leadteam_testkit::{Clock, Engine, Options, TestApp, spawn_app, spawn_with};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

async fn admin(app: &TestApp, args: &[&str], stdin: &str) -> (i32, String, String) {
    admin_on(app.database_url(), args, stdin).await
}

async fn admin_on(url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut all = vec![
        "--database-url".to_owned(),
        url.to_owned(),
        "admin".to_owned(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leadteam"))
            .args(&all)
            .env_remove("LEADTEAM_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run leadteam");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// (action, actor user, actor member, account) of every audit row.
async fn audit(app: &TestApp) -> Vec<(String, Option<i64>, Option<i64>, Option<i64>)> {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_as(
        "SELECT action, actor_user_id, actor_member_id, account_id FROM audit_log ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> Option<String> {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_optional(&mut *c)
        .await
        .unwrap()
}

async fn story(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let bob = app.insert_member(account, "bob@example.com", "Admin").await;
    let system = |action: &str| (action.to_owned(), None, None, Some(account));

    // accounts: the account, its owner and its counts.
    let (code, out, err) = admin(&app, &["accounts"], "").await;
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("Acme"))
        .expect("the account");
    assert!(line.contains("ann@example.com"), "{out}");
    assert_eq!(
        line.split_whitespace().rev().nth(3),
        Some("2"),
        "2 active: {out}"
    );

    // reset-password: a weak password is refused and nothing changes.
    let hash = scalar(
        &app,
        "SELECT password_hash FROM users WHERE email = 'bob@example.com'",
    )
    .await;
    let rows = audit(&app).await;
    let (code, _, err) = admin(&app, &["reset-password", "bob@example.com"], "short\n").await;
    assert_ne!(code, 0);
    assert!(err.contains("password"), "{err}");
    assert_eq!(
        scalar(
            &app,
            "SELECT password_hash FROM users WHERE email = 'bob@example.com'"
        )
        .await,
        hash
    );
    assert_eq!(audit(&app).await, rows, "nothing written");
    assert_eq!(
        app.get(&bob.token, "/api/v1/me").await.status,
        200,
        "sessions kept"
    );
    // A good one: set, every session of Bob ends, audited as system.
    let (code, out, err) = admin(
        &app,
        &["reset-password", "bob@example.com"],
        "a brand new passphrase\n",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 session(s) ended"), "{out}");
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 401);
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "bob@example.com", "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        audit(&app).await.last(),
        Some(&system("user.password_reset"))
    );
    let bob_token = r.body["token"].as_str().unwrap().to_owned();

    // disable-2fa: Bob enrols, loses the device; an operator turns it off.
    let e = app.post(&bob_token, "/api/v1/me/2fa", json!({})).await;
    assert_eq!(e.status, 201, "{}", e.text);
    let secret = leadteam_domain::totp::base32_decode(e.body["secret"].as_str().unwrap()).unwrap();
    let code_now = leadteam_domain::totp::code_at(&secret, app.clock.now().unix_seconds());
    let c = app
        .post(
            &bob_token,
            "/api/v1/me/2fa/confirm",
            json!({"code": code_now}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "bob@example.com", "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(r.status, 401, "2FA asks for a code: {}", r.text);
    let (code, out, err) = admin(&app, &["disable-2fa", "bob@example.com"], "").await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("turned off"), "{out}");
    assert_eq!(
        app.get(&bob_token, "/api/v1/me").await.status,
        401,
        "sessions ended"
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) || '' FROM recovery_codes")
            .await
            .as_deref(),
        Some("0")
    );
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "bob@example.com", "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(r.status, 201, "signs in without a code: {}", r.text);
    assert_eq!(audit(&app).await.last(), Some(&system("user.2fa_disabled")));
    // Again: 2FA is not on; refused, nothing written.
    let rows = audit(&app).await;
    let (code, _, err) = admin(&app, &["disable-2fa", "bob@example.com"], "").await;
    assert_ne!(code, 0);
    assert!(err.contains("not on"), "{err}");
    assert_eq!(audit(&app).await, rows);

    // transfer-ownership: the owner is gone; Bob becomes the owner.
    let owners = "SELECT email FROM members WHERE is_owner = 1";
    let (code, _, err) = admin(
        &app,
        &[
            "transfer-ownership",
            &account.to_string(),
            "nobody@example.com",
        ],
        "",
    )
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("email"), "{err}");
    assert_eq!(
        scalar(&app, owners).await.as_deref(),
        Some("ann@example.com")
    );
    assert_eq!(audit(&app).await, rows, "nothing written");
    let (code, out, err) = admin(
        &app,
        &[
            "transfer-ownership",
            &account.to_string(),
            "bob@example.com",
        ],
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("is now the owner"), "{out}");
    assert_eq!(
        scalar(&app, owners).await.as_deref(),
        Some("bob@example.com")
    );
    let ann_role = "SELECT r.name FROM members m JOIN roles r ON r.id = m.role_id WHERE m.email = 'ann@example.com'";
    assert_eq!(scalar(&app, ann_role).await.as_deref(), Some("Admin"));
    assert_eq!(
        audit(&app).await.last(),
        Some(&system("account.ownership_transferred"))
    );

    // A database newer than the binary is refused, and so is an older one.
    let mut c = app.db.conn().await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         SELECT 9999, 'from the future', installed_on, success, checksum, execution_time FROM _sqlx_migrations WHERE version = 1",
    )
    .execute(&mut *c)
    .await
    .unwrap();
    drop(c);
    let (code, _, err) = admin(&app, &["accounts"], "").await;
    assert_ne!(code, 0);
    assert!(
        err.contains("9999") && err.contains("newer leadteam"),
        "{err}"
    );
    let empty = TestDb::new(match engine {
        Engine::Sqlite => leadteam_store::Engine::Sqlite,
        Engine::Postgres => leadteam_store::Engine::Postgres,
    })
    .await
    .unwrap();
    let (code, _, err) = admin_on(&empty.url, &["accounts"], "").await;
    assert_ne!(code, 0);
    assert!(err.contains("leadteam migrate"), "{err}");
    empty.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_admin_commands_on_sqlite() {
    story(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_admin_commands_on_postgres() {
    story(Engine::Postgres).await;
}

/// Issue 19: a server keeps the callers of the sessions it resolved. A
/// command run beside it tells it (SQLite: the access stamp beside the
/// database, exact; PostgreSQL: the bus), so a session the command ended
/// is refused by the running server: on SQLite at the very next request.
/// The server's own check of its kept callers is off here, so this proves
/// the telling itself.
async fn ended_sessions_are_refused_by_the_running_server(engine: Engine) {
    let Some(app) = spawn_with(
        engine,
        Options {
            check_kept_callers: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let bob = app
        .insert_member(owner.account_id.unwrap(), "bob@example.com", "Admin")
        .await;
    // Read twice: the server keeps Bob's caller.
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 200);
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 200);
    let (code, out, err) = admin(
        &app,
        &["reset-password", "bob@example.com"],
        "a brand new passphrase\n",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 session(s) ended"), "{out}");
    let start = std::time::Instant::now();
    while app.get(&bob.token, "/api/v1/me").await.status != 401 {
        assert_eq!(engine, Engine::Postgres, "SQLite: refused at once");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the running server kept serving an ended session"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 401);
    assert_eq!(app.get(&owner.token, "/api/v1/me").await.status, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_admin_ended_sessions_are_refused_by_the_running_server_on_sqlite() {
    ended_sessions_are_refused_by_the_running_server(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_admin_ended_sessions_are_refused_by_the_running_server_on_postgres() {
    ended_sessions_are_refused_by_the_running_server(Engine::Postgres).await;
}

#[tokio::test]
async fn ops_config_check_prints_the_effective_settings_without_secrets() {
    let dir = leadteam_store::testing::TempDir::new();
    let file = dir.path.join("leadteam.toml");
    std::fs::write(
        &file,
        "bind = \"0.0.0.0:9000\"\nsmtp_url = \"smtp://mailer:s3cret@127.0.0.1:2525\"\nmax_streams = 5\nidle_timeout = 30\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadteam"))
        .args([
            "--config",
            &file.display().to_string(),
            "config",
            "check",
            "--max-streams",
            "7",
        ])
        .env("LEADTEAM_IDLE_TIMEOUT", "45")
        .env(
            "LEADTEAM_DATABASE_URL",
            "postgres://lt:hunter2@db.internal/lt",
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for line in [
        "bind = 0.0.0.0:9000  # file",
        "max_streams = 7  # flag",
        "idle_timeout = 45  # environment",
        "database_url = postgres://lt:***@db.internal/lt  # environment",
        "smtp_url = smtp://mailer:***@127.0.0.1:2525  # file",
        "header_timeout = 10  # default",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(
        !text.contains("s3cret") && !text.contains("hunter2"),
        "{text}"
    );
    std::fs::write(&file, "max_stream = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadteam"))
        .args(["--config", &file.display().to_string(), "config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `max_stream`"));
}
