//! `leadteam backup` and `leadteam restore` (issue 16): a backup of a
//! running server's database restores into an empty database of either
//! engine with every row as it was (compared row by row), the uploaded
//! files, and id counters past every id ever handed out (X4); a database
//! that is not empty is refused unless `--replace`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadteam_store::Db;
use leadteam_store::backup;
use leadteam_store::testing::{TempDir, TestDb};
use leadteam_testkit::{Engine, TestApp, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn leadteam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leadteam"))
        .args(args)
        .env_remove("LEADTEAM_CONFIG")
        .env_remove("LEADTEAM_DATABASE_URL")
        .env_remove("LEADTEAM_DATA_DIR")
        .output()
        .expect("run leadteam");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn run(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        leadteam(&a)
    })
    .await
    .unwrap()
}

type Rows = BTreeMap<String, Vec<BTreeMap<String, Value>>>;

/// Every row of every table, by column name.
async fn rows(db: &Db) -> Rows {
    let mut c = db.conn().await.unwrap();
    let mut out = Rows::new();
    for t in backup::tables(&mut c).await.unwrap() {
        let mut list = Vec::new();
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        backup::dump(&mut c, &t, &mut |values| {
            list.push(names.iter().cloned().zip(values).collect());
            Ok(())
        })
        .await
        .unwrap();
        out.insert(t.name.clone(), list);
    }
    out
}

/// The highest id each table's counter handed out.
async fn floors(db: &Db) -> BTreeMap<String, i64> {
    let mut c = db.conn().await.unwrap();
    let mut out = BTreeMap::new();
    for t in backup::tables(&mut c).await.unwrap() {
        out.insert(t.name.clone(), backup::id_floor(&mut c, &t).await.unwrap());
    }
    out
}

fn assert_same_rows(a: &Rows, b: &Rows, what: &str) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: the same tables"
    );
    for (table, rows_a) in a {
        let rows_b = &b[table];
        assert_eq!(rows_a.len(), rows_b.len(), "{what}: rows of {table}");
        for (ra, rb) in rows_a.iter().zip(rows_b) {
            assert_eq!(ra, rb, "{what}: a row of {table}");
        }
    }
}

/// A book with a bit of everything: members, a team deleted (its id is
/// history only), leads routed and one deleted, notes, an uploaded file.
async fn fill(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = &owner.token;
    let team = app.post(t, "/api/v1/teams", json!({"name": "Gone"})).await;
    assert_eq!(team.status, 201, "{}", team.text);
    let gone = app
        .delete(t, &format!("/api/v1/teams/{}", team.body["id"]))
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    app.post(t, "/api/v1/teams", json!({"name": "Sales"})).await;
    let src = app
        .post(
            t,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zapier"}),
        )
        .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = json!({"name": format!("Lead {i}"), "email": format!("l{i}@x.io"), "lead_id": format!("L{i}"), "budget": "5000 €"}).to_string();
        let r = deliver(app, &src.body, body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.body["client_id"].as_i64().unwrap());
    }
    let me = app.get(t, "/api/v1/me").await.body["member_id"]
        .as_i64()
        .unwrap();
    for id in &ids[..2] {
        let r = app
            .post(
                t,
                &format!("/api/v1/clients/{id}/assign"),
                json!({"member_id": me}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = app
        .post(
            t,
            &format!("/api/v1/clients/{}/notes", ids[0]),
            json!({"body": "called \"twice\"\nno answer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.delete(t, &format!("/api/v1/clients/{}", ids[1])).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let item = app
        .post(
            t,
            "/api/v1/content",
            json!({"kind": "file", "title": "Prices", "shared": true}),
        )
        .await;
    assert_eq!(item.status, 201, "{}", item.text);
    let r = app
        .http
        .post(app.url(&format!(
            "/api/v1/content/{}/file?name=prices.txt",
            item.body["id"]
        )))
        .bearer_auth(t)
        .header("content-type", "text/plain")
        .body("prices: 10, 20, 30\n")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

fn content_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let root = dir.join("content");
    let Ok(accounts) = std::fs::read_dir(&root) else {
        return out;
    };
    for a in accounts {
        let a = a.unwrap().path();
        for f in std::fs::read_dir(&a).unwrap() {
            let f = f.unwrap().path();
            let rel = f.strip_prefix(&root).unwrap().display().to_string();
            out.insert(rel, std::fs::read(&f).unwrap());
        }
    }
    out
}

/// Backs up `url` (files under `data`) into `file`.
async fn backup_to(url: &str, data: &Path, file: &Path) {
    let (code, out, err) = run(vec![
        "--database-url".into(),
        url.into(),
        "--data-dir".into(),
        data.display().to_string(),
        "backup".into(),
        file.display().to_string(),
    ])
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("backup written to"), "{out}");
}

async fn restore_into(
    url: &str,
    data: &Path,
    file: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args: Vec<String> = vec![
        "--database-url".into(),
        url.into(),
        "--data-dir".into(),
        data.display().to_string(),
        "restore".into(),
        file.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(args).await
}

/// Restores `file` into a new empty database of `engine` and checks it holds
/// exactly `expected`; returns it.
async fn restore_and_compare(
    engine: leadteam_store::Engine,
    file: &Path,
    expected: &Rows,
    expected_floors: &BTreeMap<String, i64>,
    expected_files: &BTreeMap<String, Vec<u8>>,
    what: &str,
) -> Option<TestDb> {
    let target = TestDb::new(engine).await?;
    let data = TempDir::new();
    let (code, out, err) = restore_into(&target.url, &data.path, file, &[]).await;
    assert_eq!(code, 0, "{what}: {out}\n{err}");
    assert!(out.contains("restored"), "{out}");
    assert_same_rows(expected, &rows(&target.db).await, what);
    assert_eq!(&content_files(&data.path), expected_files, "{what}: files");
    let got = floors(&target.db).await;
    for (table, floor) in expected_floors {
        assert!(
            got[table] >= *floor,
            "{what}: {table} would hand out id {} again (floor {floor})",
            got[table] + 1
        );
    }
    // X4 across the move: the deleted team's id is not given to a new team.
    assert!(got["teams"] >= 2, "{what}: {got:?}");
    assert!(got["clients"] >= 5, "{what}: {got:?}");

    // A database that is not empty is refused, and left as it was.
    let (code, _, err) = restore_into(&target.url, &data.path, file, &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("not empty"), "{err}");
    assert_same_rows(expected, &rows(&target.db).await, "after a refused restore");
    // Unless told: every row replaced by the backup's.
    let (code, out, err) = restore_into(&target.url, &data.path, file, &["--replace"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_same_rows(expected, &rows(&target.db).await, "after --replace");
    drop(data);
    Some(target)
}

async fn round_trip(source: Engine) {
    let Some(app) = spawn_app(source).await else {
        return;
    };
    fill(&app).await;
    let data = app.dir.path.clone();
    let expected = rows(&app.db).await;
    let expected_floors = floors(&app.db).await;
    let expected_files = content_files(&data);
    assert_eq!(expected_files.len(), 1, "the uploaded file");
    assert!(expected["clients"].len() == 4 && expected_floors["clients"] >= 5);
    assert!(expected["teams"].len() == 1 && expected_floors["teams"] >= 2);

    let dir = TempDir::new();
    let file = dir.path.join("book.tar.gz");
    // The server is running while the backup is taken.
    backup_to(app.database_url(), &data, &file).await;
    let other = match source {
        Engine::Sqlite => leadteam_store::Engine::Postgres,
        Engine::Postgres => leadteam_store::Engine::Sqlite,
    };
    let what = format!("{source:?} -> {}", other.name());
    let Some(first) = restore_and_compare(
        other,
        &file,
        &expected,
        &expected_floors,
        &expected_files,
        &what,
    )
    .await
    else {
        app.stop().await;
        return;
    };
    // And back: a backup of the restored database restores into the
    // first engine again, still the same rows.
    let back = dir.path.join("back.tar");
    let first_data = TempDir::new();
    std::fs::create_dir_all(first_data.path.join("content/1")).unwrap();
    for (rel, bytes) in &expected_files {
        let p = first_data.path.join("content").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    backup_to(&first.url, &first_data.path, &back).await;
    let home = match source {
        Engine::Sqlite => leadteam_store::Engine::Sqlite,
        Engine::Postgres => leadteam_store::Engine::Postgres,
    };
    let what = format!("{what} -> {}", home.name());
    if let Some(second) = restore_and_compare(
        home,
        &back,
        &expected,
        &expected_floors,
        &expected_files,
        &what,
    )
    .await
    {
        second.close().await;
    }
    first.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_backup_of_sqlite_restores_into_postgres_and_back_row_by_row() {
    round_trip(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_backup_of_postgres_restores_into_sqlite_and_back_row_by_row() {
    round_trip(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_a_backup_made_by_a_newer_leadteam_is_refused() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    app.signup("Acme", "Ann", "ann@example.com").await;
    let dir = TempDir::new();
    let file = dir.path.join("book.tar");
    backup_to(app.database_url(), &app.dir.path, &file).await;
    // Rewrite the manifest as if a newer binary had made the backup.
    let mut archive = tar::Archive::new(std::fs::File::open(&file).unwrap());
    let newer = dir.path.join("newer.tar");
    let mut out = tar::Builder::new(std::fs::File::create(&newer).unwrap());
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        if path == Path::new("manifest.json") {
            let mut m: Value = serde_json::from_slice(&bytes).unwrap();
            m["migrations"].as_array_mut().unwrap().push(json!(9999));
            bytes = serde_json::to_vec(&m).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        h.set_cksum();
        out.append_data(&mut h, &path, bytes.as_slice()).unwrap();
    }
    out.finish().unwrap();
    drop(out);
    let target = TestDb::new(leadteam_store::Engine::Sqlite).await.unwrap();
    let data = TempDir::new();
    let (code, _, err) = restore_into(&target.url, &data.path, &newer, &[]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("migration 9999") && err.contains("newer"),
        "{err}"
    );
    let mut c = target.db.conn().await.unwrap();
    assert!(
        backup::tables(&mut c).await.unwrap().is_empty(),
        "nothing made"
    );
    drop(c);
    target.close().await;
    app.stop().await;
}

/// Delivers the lead `body`, signed, to the webhook source `src`.
async fn deliver(app: &TestApp, src: &Value, body: String) -> leadteam_testkit::Resp {
    app.deliver_signed(
        src["webhook_url"].as_str().unwrap(),
        src["secret"].as_str().unwrap(),
        &body,
        &[],
    )
    .await
}

/// A lead named after `n`, delivered to `src`; the answer's status.
async fn lead_status(app: &TestApp, src: &Value, n: u32) -> u16 {
    deliver(app, src, json!({"name": format!("Lead {n}")}).to_string())
        .await
        .status
}

/// `restore --replace` into the database of a running node: the node
/// forgets what it kept in memory of the replaced rows (issue 19: lead
/// sources and routing settings are kept by each node) — a source switched
/// off in the backup, and used switched on since, is refused once restored.
/// On PostgreSQL the restore tells the nodes through their bus; on SQLite
/// through the stamp beside the database file, which every lookup of what
/// a node keeps looks at.
async fn a_restore_replacing_a_running_database_makes_its_nodes_forget_what_they_kept(
    engine: Engine,
) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Site"}),
        )
        .await;
    assert_eq!(src.status, 201, "{}", src.text);
    let path = format!("/api/v1/lead-sources/{}", src.body["id"]);
    let r = app
        .patch(&owner.token, &path, json!({"enabled": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let dir = TempDir::new();
    let file = dir.path.join("off.tar");
    backup_to(app.database_url(), &app.dir.path, &file).await;

    let r = app
        .patch(&owner.token, &path, json!({"enabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(lead_status(&app, &src.body, 1).await, 201);
    assert_eq!(lead_status(&app, &src.body, 2).await, 201, "kept in memory");

    let (code, out, err) =
        restore_into(app.database_url(), &app.dir.path, &file, &["--replace"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    if engine == Engine::Sqlite {
        // The stamp is looked at before every lookup: the very next lead.
        assert_eq!(
            lead_status(&app, &src.body, 3).await,
            409,
            "the node kept accepting for a source the restore switched off"
        );
    }
    let start = std::time::Instant::now();
    let mut n = 3;
    while lead_status(&app, &src.body, n).await != 409 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the node kept accepting for a source the restore switched off"
        );
        n += 1;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_a_restore_replacing_a_running_postgres_database_makes_its_nodes_forget_what_they_kept()
{
    a_restore_replacing_a_running_database_makes_its_nodes_forget_what_they_kept(Engine::Postgres)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_a_restore_replacing_a_running_sqlite_database_makes_its_node_forget_what_it_kept() {
    a_restore_replacing_a_running_database_makes_its_nodes_forget_what_they_kept(Engine::Sqlite)
        .await;
}
