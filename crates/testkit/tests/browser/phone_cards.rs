//! Issue 17's friction item "on a phone, one primary action per client
//! card": at 390 × 844 each card of the client list shows one primary
//! action, the one that fits that client for that viewer (Claim an
//! unassigned lead, Call or Email one's own client, else Open), and tucks
//! the others (WhatsApp, reassign, open) under "More"; the desktop row keeps
//! its actions (C1: only the assignee is offered contact links; C2, C3).

use crate::harness::Browser;
use crate::team::setup;
use crate::work::{join, send_lead, sign_in, webhook_source};
use leadteam_testkit::{TestApp, User};
use serde_json::json;

async fn add_client(app: &TestApp, owner: &User, body: serde_json::Value) -> i64 {
    let r = app.post(&owner.token, "/api/v1/clients", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"]
        .as_i64()
        .or_else(|| r.body["client"]["id"].as_i64())
        .unwrap()
}

async fn shown(b: &Browser, css: &str) -> bool {
    b.visible(css).await
}

/// The visible primary actions of a card: (text, href).
async fn primaries(b: &Browser, client: i64) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for e in
        b.c.find_all(fantoccini::Locator::Css(&format!(
            "#client-{client} [data-primary]"
        )))
        .await
        .unwrap()
    {
        let seen =
            b.c.execute(
                "return arguments[0].checkVisibility();",
                vec![serde_json::to_value(&e).unwrap()],
            )
            .await
            .unwrap();
        if seen.as_bool().unwrap() {
            // The first word: the rest names the client for screen readers.
            let text = e.text().await.unwrap();
            let word = text
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            out.push((word, e.attr("href").await.unwrap()));
        }
    }
    out
}

async fn assignee_of(app: &TestApp, owner: &User, client: i64) -> Option<i64> {
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    r.body["client"]["assignee_id"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_c1_c2_c3_a_phone_client_card_has_one_primary_action_and_the_rest_under_more() {
    let test =
        "issue17_c1_c2_c3_a_phone_client_card_has_one_primary_action_and_the_rest_under_more";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let pia = add_client(
        &app,
        &owner,
        json!({"name": "Pia Phone", "phone": "+33 6 12 34 56 78", "email": "pia@example.com"}),
    )
    .await;
    let eve = add_client(
        &app,
        &owner,
        json!({"name": "Eve Mail", "email": "eve@example.com"}),
    )
    .await;
    let bo = add_client(
        &app,
        &owner,
        json!({"name": "Bo Client", "phone": "+44 20 7946 0000"}),
    )
    .await;
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{bo}/assign"),
            json!({"member_id": bob}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    let src = webhook_source(&app, &owner, "Site").await;
    let una = send_lead(
        &app,
        src["id"].as_i64().unwrap(),
        src["secret"].as_str().unwrap(),
        json!({"name": "Una Lead", "phone": "+49 30 1234567"}),
    )
    .await;
    assert_eq!(assignee_of(&app, &owner, una).await, None);

    sign_in(&b, "ann@example.com").await;
    b.resize(390, 844).await;
    b.goto("/clients?view=all").await;
    b.wait_text("table.clients", "Una Lead").await;

    // One primary action per card, the one that fits.
    assert_eq!(
        primaries(&b, una).await,
        [("Claim".to_owned(), None)],
        "an unassigned lead is claimed"
    );
    assert_eq!(
        primaries(&b, pia).await,
        [("Call".to_owned(), Some("tel:+33612345678".to_owned()))],
        "one's own client with a phone is called"
    );
    assert_eq!(
        primaries(&b, eve).await,
        [(
            "Email".to_owned(),
            Some("mailto:eve@example.com".to_owned())
        )]
    );
    assert_eq!(
        primaries(&b, bo).await,
        [("Open".to_owned(), Some(format!("/clients/{bo}")))],
        "Bob's client: Ann may not contact it (C1), she opens it"
    );
    // The desktop row's actions are not shown on a phone, nor what is under More.
    for id in [una, pia, eve, bo] {
        assert!(!shown(&b, &format!("#client-{id} .row-actions")).await);
    }
    assert!(
        !shown(
            &b,
            &format!("#client-{pia} .more-list a[href^='https://wa.me/']")
        )
        .await
    );
    assert!(
        b.c.find(fantoccini::Locator::Css(&format!(
            "#client-{bo} a[href^='tel:']"
        )))
        .await
        .is_err(),
        "no call link for a client of someone else"
    );
    b.shot("phone-cards").await;

    // More opens the rest: WhatsApp, email, open, reassign.
    b.click(&format!("#client-{pia} .more-actions summary"))
        .await;
    assert!(
        shown(
            &b,
            &format!("#client-{pia} .more-list a[href='https://wa.me/33612345678']")
        )
        .await
    );
    assert!(
        shown(
            &b,
            &format!("#client-{pia} .more-list a[href='/clients/{pia}']")
        )
        .await
    );
    assert!(shown(&b, &format!("#assign-card-{pia}")).await);
    b.shot("phone-card-more").await;
    b.click(&format!("#client-{pia} .more-actions summary"))
        .await;

    // Reassign from More: Bob's client to Ann.
    b.click(&format!("#client-{bo} .more-actions summary"))
        .await;
    b.find(&format!("#assign-card-{bo}"))
        .await
        .select_by_label("Ann Owner (you)")
        .await
        .unwrap();
    b.click(&format!("#client-{bo} .more-list form.assign button"))
        .await;
    let ann = assignee_of(&app, &owner, pia).await;
    assert!(ann.is_some());
    for _ in 0..50 {
        if assignee_of(&app, &owner, bo).await == ann {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(assignee_of(&app, &owner, bo).await, ann);

    // Claim with the primary action: the lead is Ann's, and its card now calls.
    b.goto("/clients?view=all").await;
    b.wait_text("table.clients", "Una Lead").await;
    b.click(&format!("#client-{una} .card-actions [data-primary]"))
        .await;
    for _ in 0..50 {
        if assignee_of(&app, &owner, una).await.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(assignee_of(&app, &owner, una).await, ann);
    b.goto("/clients?view=all").await;
    b.wait_text("table.clients", "Una Lead").await;
    assert_eq!(
        primaries(&b, una).await,
        [("Call".to_owned(), Some("tel:+49301234567".to_owned()))]
    );
    b.shot("phone-cards-after").await;

    // The desktop is unchanged: the row's actions, no card actions.
    b.resize(1280, 900).await;
    b.goto("/clients?view=all").await;
    b.wait_text("table.clients", "Una Lead").await;
    assert!(shown(&b, &format!("#client-{pia} .row-actions")).await);
    assert!(shown(&b, &format!("#assign-{pia}")).await);
    assert!(!shown(&b, &format!("#client-{pia} .card-actions")).await);
    b.shot("desktop-clients").await;
    b.finish().await;
    app.stop().await;
}
