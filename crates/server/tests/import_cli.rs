//! `leadteam import FILE` against a running server (I3): the report is
//! printed, rejected rows are named by line, the exit code says whether rows
//! were rejected, and a dry run stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadteam_testkit::{Engine, TestApp, spawn_app};
use serde_json::json;
use std::process::Command;

async fn api_key(app: &TestApp) -> String {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "import", "permissions": ["integrations.manage"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["token"].as_str().unwrap().to_owned()
}

fn leadteam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leadteam"))
        .args(args)
        .env_remove("LEADTEAM_TOKEN")
        .output()
        .expect("run leadteam");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i3_the_import_command_streams_a_file_and_prints_the_report() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let token = api_key(&app).await;
    let dir = std::env::temp_dir().join(format!("leadteam-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("leads.csv");
    let mut csv = String::from("Full Name,E-mail,Notes\n");
    for i in 0..500 {
        csv.push_str(&format!("Lead {i},lead{i}@example.com,note {i}\n"));
    }
    csv.push_str("Broken,not-an-email,x\n");
    std::fs::write(&file, &csv).unwrap();
    let file_arg = file.to_str().unwrap().to_owned();
    let url = app.base.clone();
    let report = dir.join("report.json");
    let report_arg = report.to_str().unwrap().to_owned();

    // A dry run: the report, nothing stored; a rejected row exits 2.
    let (code, stdout, stderr) = tokio::task::spawn_blocking({
        let (f, u, t) = (file_arg.clone(), url.clone(), token.clone());
        move || {
            leadteam(&[
                "import",
                &f,
                "--url",
                &u,
                "--token",
                &t,
                "--dry-run",
                "--quiet",
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("501 rows read: 500 would be stored (dry run), 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 502: email:"), "{stdout}");
    assert!(stdout.contains("Full Name -> name"), "{stdout}");
    assert_eq!(app.count("clients").await, 0);

    // The import itself, with the whole report saved.
    let (code, stdout, stderr) = tokio::task::spawn_blocking({
        let (f, u, t, r) = (file_arg.clone(), url.clone(), token.clone(), report_arg);
        move || {
            leadteam(&[
                "import", &f, "--url", &u, "--token", &t, "--quiet", "--report", &r,
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stdout.contains("500 stored, 1 rejected"), "{stdout}");
    assert_eq!(app.count("clients").await, 500);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(saved["errors"][0]["line"], 502);

    // A bad key is refused with the server's words, exit 1. A token that
    // begins with `-` (a session token is URL-safe base64, so one in 64
    // does) is the token, not a flag: it reaches the server too.
    for bad in ["ltk_wrong", "-kWrong"] {
        let (code, _, stderr) = tokio::task::spawn_blocking({
            let (f, u) = (file_arg.clone(), url.clone());
            move || leadteam(&["import", &f, "--url", &u, "--token", bad, "--quiet"])
        })
        .await
        .unwrap();
        assert_eq!(code, 1, "{bad}: {stderr}");
        assert!(stderr.contains("401"), "{bad}: {stderr}");
        assert_eq!(app.count("clients").await, 500);
    }
    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
}
