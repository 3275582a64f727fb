//! Time zones (X6): the account has one, a member may choose its own; the
//! API keeps RFC 3339 and CSV exports are in the reader's zone.

use super::support::{join, last_audit};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(r_x6_the_account_and_each_member_choose_the_zone_times_are_read_in,);

async fn r_x6_the_account_and_each_member_choose_the_zone_times_are_read_in(app: &TestApp) {
    // Tuesday 8 December 2026, 10:00 UTC.
    app.clock.set(leadteam_domain::Timestamp(1_796_724_000_000));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bea, _) = join(app, &owner, "Bea", "bea@example.com", "Member").await;
    assert_eq!(
        app.get(&owner.token, "/api/v1/me").await.body["time_zone"],
        "UTC"
    );

    // The account's zone: a wrong one is refused naming the field, nothing changes.
    let r = app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"time_zone": "Europe/Pariss"}),
        )
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("time_zone")),
        "{}",
        r.text
    );
    assert_eq!(
        app.get(&owner.token, "/api/v1/account").await.body["time_zone"],
        "UTC"
    );
    let r = app
        .patch(
            &bea.token,
            "/api/v1/account",
            json!({"time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["time_zone"].as_str()),
        (200, Some("Europe/Paris")),
        "{}",
        r.text
    );
    let (_, before, after) = last_audit(app, "account.updated").await;
    assert_eq!(
        (before["time_zone"].clone(), after["time_zone"].clone()),
        (json!("UTC"), json!("Europe/Paris"))
    );
    // Bea follows the account's zone until she picks her own.
    assert_eq!(
        app.get(&bea.token, "/api/v1/me").await.body["time_zone"],
        "Europe/Paris"
    );
    let r = app
        .put(
            &bea.token,
            "/api/v1/me/preferences",
            json!({"time_zone": "Kolkata"}),
        )
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("time_zone")),
        "{}",
        r.text
    );
    let r = app
        .put(
            &bea.token,
            "/api/v1/me/preferences",
            json!({"time_zone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"time_zone": "Asia/Kolkata", "effective_time_zone": "Asia/Kolkata"})
    );
    let me = app.get(&bea.token, "/api/v1/me").await;
    assert_eq!(
        (
            me.body["time_zone"].as_str(),
            me.body["account"]["time_zone"].as_str()
        ),
        (Some("Asia/Kolkata"), Some("Europe/Paris"))
    );
    assert_eq!(
        app.get(&owner.token, "/api/v1/me").await.body["time_zone"],
        "Europe/Paris"
    );

    // The API keeps RFC 3339 (UTC); the CSV export is in the reader's zone.
    let c = app
        .post(&bea.token, "/api/v1/clients", json!({"name": "Lea"}))
        .await;
    assert_eq!(c.status, 201, "{}", c.text);
    assert_eq!(c.body["created_at"], "2026-12-08T10:00:00Z", "{}", c.text);
    let csv = app.get(&owner.token, "/api/v1/clients/export").await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(
        csv.text.contains("created_at (Europe/Paris)") && csv.text.contains("2026-12-08 11:00"),
        "{}",
        csv.text
    );
    let r = app
        .put(
            &owner.token,
            "/api/v1/me/preferences",
            json!({"time_zone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let csv = app.get(&owner.token, "/api/v1/clients/export").await;
    let mut lines = csv.text.lines();
    assert!(
        lines.next().unwrap().contains("created_at (Asia/Kolkata)"),
        "{}",
        csv.text
    );
    assert!(
        lines.next().unwrap().contains("2026-12-08 15:30"),
        "{}",
        csv.text
    );

    // Back to the account's.
    let r = app
        .put(
            &bea.token,
            "/api/v1/me/preferences",
            json!({"time_zone": Value::Null}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"time_zone": null, "effective_time_zone": "Europe/Paris"}),
        "{}",
        r.text
    );
    assert_eq!(
        app.get(&bea.token, "/api/v1/me").await.body["time_zone"],
        "Europe/Paris"
    );
}
