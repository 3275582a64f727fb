//! Content files (P8): uploaded as the raw body with size and type limits,
//! stored under the data folder, downloaded as attachments by those who may
//! see the content; a failed transaction undoes the write; other accounts'
//! ids answer 404 (X3).

use crate::content::{content, library, new_content};
use leadteam_testkit::{Resp, TestApp, both_engines};
use serde_json::json;
use std::collections::BTreeSet;

both_engines!(
    r_p8_files_upload_and_download_as_attachments,
    r_p8_files_over_10_mib_or_of_other_types_are_refused_and_leave_nothing,
    r_p8_a_failed_transaction_undoes_the_file_write,
    r_x3_foreign_content_ids_answer_404_and_change_nothing,
);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

async fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    content_type: &str,
    bytes: Vec<u8>,
    name: Option<&str>,
) -> Resp {
    let mut req = app
        .http
        .post(app.url(&format!("/api/v1/content/{id}/file")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes);
    if let Some(n) = name {
        req = req.query(&[("name", n)]);
    }
    TestApp::read(req.send().await.expect("upload sent")).await
}

async fn download(
    app: &TestApp,
    token: &str,
    id: i64,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .http
        .get(app.url(&format!("/api/v1/content/{id}/file")))
        .bearer_auth(token)
        .send()
        .await
        .expect("download sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The names of the files in an account's folder.
fn files_of(app: &TestApp, account: i64) -> BTreeSet<String> {
    let dir = app.dir.path.join("content").join(account.to_string());
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

async fn r_p8_files_upload_and_download_as_attachments(app: &TestApp) {
    let l = library(app).await;
    let account = l.owner.account_id.unwrap();
    let id = *l.ids(&["mia-file"]).first().unwrap();
    let r = upload(
        app,
        &l.mia.token,
        id,
        "application/pdf",
        PDF.to_vec(),
        Some("price list 2025.pdf"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["file"],
        json!({"name": "price list 2025.pdf", "type": "application/pdf", "size": PDF.len(),
               "url": format!("/api/v1/content/{id}/file")})
    );
    assert_eq!(files_of(app, account), BTreeSet::from([id.to_string()]));
    let on_disk = app.dir.path.join(format!("content/{account}/{id}"));
    assert_eq!(std::fs::read(on_disk).unwrap(), PDF);

    // The author downloads it; Max (not the author, not an admin) does not see it.
    let (status, headers, bytes) = download(app, &l.mia.token, id).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"price list 2025.pdf\"; filename*=UTF-8''price%20list%202025.pdf"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(download(app, &l.max.token, id).await.0, 404);
    assert_eq!(download(app, &l.admin.token, id).await.0, 200);

    // Shared, every member downloads it (P6); only editors upload.
    app.patch(
        &l.mia.token,
        &format!("/api/v1/content/{id}"),
        json!({"shared": true}),
    )
    .await;
    assert_eq!(download(app, &l.bob.token, id).await.0, 200);
    let r = upload(app, &l.bob.token, id, "image/png", PNG.to_vec(), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        download(app, &l.bob.token, id).await.2,
        PDF,
        "nothing changed"
    );

    // A new upload replaces the file; the name defaults to the title.
    let r = upload(app, &l.max.token, id, "image/png", PNG.to_vec(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["file"]["name"], "Mia price list.png");
    let (_, headers, bytes) = download(app, &l.bob.token, id).await;
    assert_eq!(
        (headers["content-type"].to_str().unwrap(), bytes.as_slice()),
        ("image/png", PNG)
    );
    assert_eq!(files_of(app, account), BTreeSet::from([id.to_string()]));

    // Only content of kind file holds a file; content without one has none.
    let page = *l.ids(&["mia-shared"]).first().unwrap();
    let r = upload(
        app,
        &l.mia.token,
        page,
        "application/pdf",
        PDF.to_vec(),
        None,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(download(app, &l.mia.token, page).await.0, 404);

    // Deleting the content deletes its file.
    let r = app
        .delete(&l.owner.token, &format!("/api/v1/content/{id}"))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(files_of(app, account), BTreeSet::new());
    assert_eq!(download(app, &l.owner.token, id).await.0, 404);
}

async fn r_p8_files_over_10_mib_or_of_other_types_are_refused_and_leave_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let id = new_content(
        app,
        &owner,
        json!({"kind": "file", "title": "Sheet", "shared": true}),
    )
    .await;
    let r = upload(
        app,
        &owner.token,
        id,
        "text/csv; charset=utf-8",
        b"name,email\n".to_vec(),
        Some("a.csv"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = app
        .get(&owner.token, &format!("/api/v1/content/{id}"))
        .await
        .body;

    let limit = 10 * 1024 * 1024;
    let r = upload(
        app,
        &owner.token,
        id,
        "text/plain",
        vec![b'a'; limit + 1],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.problem_type()),
        (413, Some("file-too-large")),
        "{}",
        r.text
    );
    assert_eq!(r.body["max_bytes"], limit);
    // A large refused body is read to its end, so the client gets the answer.
    let big = vec![b'a'; limit + limit / 2];
    let r = upload(app, &owner.token, id, "text/plain", big, None).await;
    assert_eq!(r.status, 413, "{}", r.text);
    let r = upload(
        app,
        &owner.token,
        id,
        "image/svg+xml",
        vec![b' '; limit / 2],
        None,
    )
    .await;
    assert_eq!(r.status, 415, "{}", r.text);
    let r = upload(
        app,
        &owner.token,
        id,
        "image/svg+xml",
        b"<svg/>".to_vec(),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.problem_type()),
        (415, Some("unsupported-file-type")),
        "{}",
        r.text
    );
    assert_eq!(r.field(), Some("Content-Type"));
    assert!(
        r.body["accepted_types"]
            .as_array()
            .unwrap()
            .contains(&json!("application/pdf"))
    );
    let r = upload(
        app,
        &owner.token,
        id,
        "image/png",
        b"<html><script>".to_vec(),
        None,
    )
    .await;
    assert_eq!(r.status, 415, "the bytes are not a PNG: {}", r.text);
    let r = upload(app, &owner.token, id, "text/plain", Vec::new(), None).await;
    assert_eq!((r.status, r.field()), (422, Some("file")), "{}", r.text);

    // Exactly 10 MiB is accepted.
    let r = upload(app, &owner.token, id, "text/plain", vec![b'b'; limit], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["file"]["size"], limit);
    let after = app
        .get(&owner.token, &format!("/api/v1/content/{id}"))
        .await
        .body;
    assert_ne!(after["file"], before["file"]);
    assert_eq!(
        files_of(app, account),
        BTreeSet::from([id.to_string()]),
        "no temporary files left"
    );
}

async fn r_p8_a_failed_transaction_undoes_the_file_write(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let id = new_content(
        app,
        &owner,
        json!({"kind": "file", "title": "Deck", "shared": true}),
    )
    .await;
    let r = upload(app, &owner.token, id, "application/pdf", PDF.to_vec(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = app
        .get(&owner.token, &format!("/api/v1/content/{id}"))
        .await
        .body;

    // Make the row update fail inside the upload's transaction.
    let mut c = app.db.conn().await.unwrap();
    let ddl = match app.engine {
        leadteam_testkit::Engine::Sqlite => vec![
            "CREATE TRIGGER refuse_files BEFORE UPDATE OF file_name ON content_items \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        leadteam_testkit::Engine::Postgres => vec![
            "CREATE FUNCTION refuse_files() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_files BEFORE UPDATE OF file_name ON content_items \
             FOR EACH ROW EXECUTE FUNCTION refuse_files()",
        ],
    };
    for sql in ddl {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *c)
            .await
            .unwrap();
    }
    drop(c);
    let r = upload(app, &owner.token, id, "image/png", PNG.to_vec(), None).await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(
        app.get(&owner.token, &format!("/api/v1/content/{id}"))
            .await
            .body,
        before
    );
    let (status, _, bytes) = download(app, &owner.token, id).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (200, PDF),
        "the previous file is back"
    );
    assert_eq!(
        files_of(app, account),
        BTreeSet::from([id.to_string()]),
        "nothing else left"
    );
}

async fn r_x3_foreign_content_ids_answer_404_and_change_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let id = new_content(
        app,
        &owner,
        json!({"kind": "file", "title": "Deck", "shared": true}),
    )
    .await;
    let r = upload(app, &owner.token, id, "application/pdf", PDF.to_vec(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let path = format!("/api/v1/content/{id}");
    let before = app.get(&owner.token, &path).await.body;
    let intruder = app.signup("Other", "Olga", "olga@example.com").await;
    assert_eq!(app.get(&intruder.token, &path).await.status, 404);
    let r = app
        .patch(&intruder.token, &path, json!({"title": "Mine"}))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(app.delete(&intruder.token, &path).await.status, 404);
    let r = upload(app, &intruder.token, id, "image/png", PNG.to_vec(), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(download(app, &intruder.token, id).await.0, 404);
    assert_eq!(content(app, &intruder.token).await, json!([]));
    assert_eq!(
        app.get(&owner.token, &path).await.body,
        before,
        "nothing changed"
    );
    assert_eq!(download(app, &owner.token, id).await.2, PDF);
    assert_eq!(
        files_of(app, intruder.account_id.unwrap()),
        BTreeSet::new(),
        "nothing written for the intruder"
    );
}
