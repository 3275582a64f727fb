//! Files from the browser: the CSV import of clients (I2, I3) with a dry run
//! that stores nothing, then the real import; a member without
//! `integrations.manage` gets neither the link nor the page (P9); a file
//! uploaded to a content item and downloaded (P5, P8). Each test ends with
//! phone-width shots of its pages.

use crate::harness::Browser;
use crate::settings::phone_shots;
use crate::team::setup;
use crate::work::{join, sign_in};
use crate::work_pages::{csrf_of, page};
use fantoccini::Locator;
use leadteam_testkit::PASSWORD;
use std::path::PathBuf;

/// A file with `body` in a folder of its own (removed with the test's
/// process), for the browser's file chooser.
fn temp_file(test: &str, name: &str, body: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leadteam-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// Chooses `path` in the file input `css`, as a person picking a file.
async fn choose(b: &Browser, css: &str, path: &std::path::Path) {
    b.find(css)
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .expect("choose the file");
}

async fn absent(b: &Browser, css: &str) -> bool {
    b.c.find(Locator::Css(css)).await.is_err()
}

const CSV: &str = "Name,Email,Phone,Status\n\
Lena Lead,lena@example.com,+49 30 1234567,open\n\
Bad Row,bad@example.com,,maybe\n\
Max Muster,max@example.com,,won\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_i3_the_owner_checks_a_csv_with_a_bad_row_then_imports_it() {
    let test = "i2_i3_the_owner_checks_a_csv_with_a_bad_row_then_imports_it";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    app.signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let csv = temp_file(test, "leads.csv", CSV.as_bytes());
    sign_in(&b, "ann@example.com").await;

    // From the clients list to the Import tab.
    b.nav("/clients").await;
    b.click(".tabs a[href='/clients/import']").await;
    b.wait_text("h1", "Import clients").await;
    b.shot("import").await;

    // No file chosen: said next to the field, nothing stored.
    b.click("#import-check").await;
    b.wait_text("#file-error", "Choose the CSV file").await;
    b.shot("import-no-file").await;
    assert_eq!(app.count("clients").await, 0);

    // A mapping naming a column the file lacks: said next to the mapping.
    choose(&b, "#file", &csv).await;
    b.click("#mapping summary").await;
    b.fill("#map", "Mobile:phone").await;
    b.click("#import-check").await;
    b.wait_text("#map-error", "no column named `Mobile`").await;
    b.shot("import-bad-map").await;
    assert_eq!(app.count("clients").await, 0);

    // The dry run (the file is still chosen): line 3 and its reason, nothing stored.
    b.fill("#map", "").await;
    b.click("#import-check").await;
    b.wait_text("#report-heading", "Check of leads.csv: nothing was stored")
        .await;
    let rejected = b.text("#rejected-rows tbody").await;
    assert!(rejected.contains('3'), "{rejected}");
    assert!(rejected.contains("status"), "{rejected}");
    assert!(rejected.contains("must be one of"), "{rejected}");
    assert_eq!(b.text("#report-stored").await, "2");
    assert_eq!(b.text("#report-rejected").await, "1");
    assert!(b.text("#report-columns").await.contains("Email"));
    b.shot("import-dry-run").await;
    assert_eq!(app.count("clients").await, 0, "a dry run stores nothing");

    // The real import of the same file: the good rows are stored.
    b.click("#import-run").await;
    b.wait_text("#report-heading", "leads.csv is imported")
        .await;
    assert_eq!(b.text("#report-stored").await, "2");
    assert!(b.text("#report-assigned").await.contains("assigned to you"));
    b.shot("import-done").await;
    assert_eq!(app.count("clients").await, 2);

    b.click("#import-report a[href='/clients']").await;
    b.wait_text("table.clients", "Lena Lead").await;
    assert!(b.text("table.clients").await.contains("Max Muster"));
    assert!(!b.text("table.clients").await.contains("Bad Row"));
    b.shot("clients-imported").await;

    phone_shots(
        &mut b,
        &[("/clients/import", "Import clients", "phone-import")],
    )
    .await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i3_issue17_the_import_offers_to_skip_duplicates() {
    let test = "i3_issue17_the_import_offers_to_skip_duplicates";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/clients",
            serde_json::json!({"name": "Known", "email": "known@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let csv = temp_file(
        test,
        "again.csv",
        b"Name,Email\nKnown Again,known@example.com\nNew One,new@example.com\n",
    );
    sign_in(&b, "ann@example.com").await;
    b.goto("/clients/import").await;
    b.wait_text("h1", "Import clients").await;
    choose(&b, "#file", &csv).await;
    b.click("#skip_duplicates").await;
    b.click("#import-check").await;
    b.wait_text("#report-heading", "Check of again.csv").await;
    assert_eq!(b.text("#report-stored").await, "1");
    assert_eq!(b.text("#report-skipped").await, "1");
    assert!(
        b.text("#import-report")
            .await
            .contains("Duplicates skipped")
    );
    assert!(
        b.text("#duplicate-rows")
            .await
            .contains("known@example.com")
    );
    // The choice stays ticked for the real import.
    assert!(
        b.find("#skip_duplicates")
            .await
            .prop("checked")
            .await
            .unwrap()
            .is_some_and(|v| v == "true")
    );
    b.shot("import-skip-check").await;
    assert_eq!(app.count("clients").await, 1, "a dry run stores nothing");

    b.click("#import-run").await;
    b.wait_text("#report-heading", "again.csv is imported")
        .await;
    assert_eq!(b.text("#report-stored").await, "1");
    assert_eq!(b.text("#report-skipped").await, "1");
    assert!(
        b.text("#import-report")
            .await
            .contains("1 duplicate skipped")
    );
    b.shot("import-skip-done").await;
    assert_eq!(app.count("clients").await, 2);
    b.goto("/clients").await;
    b.wait_text("table.clients", "New One").await;
    assert!(!b.text("table.clients").await.contains("Known Again"));
    phone_shots(
        &mut b,
        &[("/clients/import", "Import clients", "phone-import-skip")],
    )
    .await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i2_p9_a_member_without_integrations_manage_cannot_import() {
    let test = "i2_p9_a_member_without_integrations_manage_cannot_import";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    sign_in(&b, "bob@example.com").await;

    b.nav("/clients").await;
    b.wait_text("h1", "Clients").await;
    assert!(absent(&b, "a[href='/clients/import']").await);
    b.shot("clients-member").await;
    b.goto("/clients/import").await;
    b.wait_text("h1", "Your role does not allow this").await;
    assert!(absent(&b, "#import-form").await);
    b.shot("import-refused").await;

    // Sent anyway, with the token of one of his pages: refused, nothing stored.
    let bob = app.signin_ok("bob@example.com", PASSWORD).await;
    let (_, html) = page(&app, &bob, "/clients").await;
    let r = app
        .http
        .post(app.url("/clients/import"))
        .header("cookie", format!("lt_session={bob}"))
        .header("origin", &app.base)
        .header("x-csrf-token", csrf_of(&html))
        .header("content-type", "text/csv")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(app.count("clients").await, 0);
    b.finish().await;
    app.stop().await;
}

/// The text of `href` as the browser's session downloads it.
async fn download(b: &Browser, href: &str) -> String {
    let v =
        b.c.execute_async(
            "const [href, done] = arguments; \
             fetch(href).then(r => r.text().then(t => done(r.status + ' ' + t)));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    v.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_p8_a_file_is_uploaded_to_content_and_downloaded() {
    let test = "p5_p8_a_file_is_uploaded_to_content_and_downloaded";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com").await;

    // A new content of kind file leads to its page, where the file is chosen.
    b.nav("/content").await;
    b.wait_text("h1", "Content").await;
    b.find("#kind").await.select_by_value("file").await.unwrap();
    b.fill("#title", "Price list").await;
    b.click("input[name=shared]").await;
    b.click("main form[action='/content'] button[type=submit]")
        .await;
    b.wait_text(".notice", "Now choose the file").await;
    b.wait_text("h1", "Edit Price list").await;
    b.wait_text("#no-file", "No file yet").await;
    b.shot("content-file-new").await;
    let id: i64 = b
        .path_now()
        .await
        .trim_start_matches("/content/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // A "PDF" that is text: refused next to the field, nothing stored.
    let fake = temp_file(test, "prices.pdf", b"just text");
    choose(&b, "#file", &fake).await;
    b.click("#upload-button").await;
    b.wait_text("#file-error", "content is not PDF").await;
    b.shot("content-file-refused").await;
    let r = app
        .get(&owner.token, &format!("/api/v1/content/{id}"))
        .await;
    assert!(r.body["file"].is_null(), "{}", r.text);

    // A text file is uploaded and downloaded as it was.
    let txt = temp_file(test, "prices.txt", b"Basic: 10 EUR\nPro: 20 EUR\n");
    choose(&b, "#file", &txt).await;
    b.click("#upload-button").await;
    b.wait_text(".notice", "The file is uploaded").await;
    b.wait_text("#download", "Download prices.txt").await;
    b.shot("content-file-uploaded").await;
    let href = b.attr("#download", "href").await.unwrap();
    assert_eq!(
        download(&b, &href).await,
        "200 Basic: 10 EUR\nPro: 20 EUR\n"
    );

    // The list offers the download too.
    b.goto("/content").await;
    b.wait_text(".content-list", "Download prices.txt").await;
    b.shot("content-with-file").await;

    phone_shots(
        &mut b,
        &[
            (
                &format!("/content/{id}") as &str,
                "Edit Price list",
                "phone-content-file",
            ),
            ("/content", "Content", "phone-content"),
        ],
    )
    .await;
    b.finish().await;
    app.stop().await;
}
