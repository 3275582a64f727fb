//! The client list filtered to one team in the browser: what the caller
//! sees of that team (P2), kept across the list's other filters.

use crate::work::{join, sign_in};
use leadteam_testkit::{Engine, PASSWORD, spawn_app};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_the_client_list_filters_to_one_team_and_shows_what_the_caller_sees_of_it() {
    let test = "p2_the_client_list_filters_to_one_team_and_shows_what_the_caller_sees_of_it";
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let Some(mut b) = crate::harness::Browser::start(test, &app.base).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let cal = join(&app, &owner, "Cal Member", "cal@example.com", "Member").await;
    let team = |name: &'static str, member: i64| {
        let token = owner.token.clone();
        let app = &app;
        async move {
            let r = app
                .post(
                    &token,
                    "/api/v1/teams",
                    json!({"name": name, "member_ids": [member]}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            r.body["id"].as_i64().unwrap()
        }
    };
    let north = team("North", bob).await;
    let south = team("South", cal).await;
    // Each member adds a client (assigned to them) and puts it in a team.
    let bob_token = app.signin_ok("bob@example.com", PASSWORD).await;
    let cal_token = app.signin_ok("cal@example.com", PASSWORD).await;
    for (token, name, team) in [
        (&bob_token, "Nora North", Some(north)),
        (&cal_token, "Sam South", Some(south)),
        (&cal_token, "Tess Teamless", None),
    ] {
        let r = app
            .post(token, "/api/v1/clients", json!({"name": name}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        if let Some(team) = team {
            let id = r.body["id"].as_i64().unwrap();
            let r = app
                .patch(
                    token,
                    &format!("/api/v1/clients/{id}"),
                    json!({"team_id": team}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }

    // The owner sees all three, then filters to North: only Nora.
    sign_in(&b, "ann@example.com").await;
    b.goto("/clients?view=all").await;
    b.wait_text("table.clients", "Tess Teamless").await;
    let all = b.text("table.clients").await;
    assert!(
        all.contains("Nora North") && all.contains("Sam South"),
        "{all}"
    );
    b.find("#team")
        .await
        .select_by_label("North")
        .await
        .unwrap();
    b.click("form[role=search] button[type=submit]").await;
    b.wait_text("h1", "Clients of team North").await;
    let rows = b.text("table.clients").await;
    assert!(rows.contains("Nora North"), "{rows}");
    assert!(
        !rows.contains("Sam South") && !rows.contains("Tess Teamless"),
        "{rows}"
    );
    // The choice stays selected, the other filters are kept, and the filters
    // can be cleared.
    assert_eq!(b.value("#team").await, north.to_string());
    assert_eq!(b.value("#view").await, "all");
    assert!(b.visible("a.button-link[href='/clients']").await);
    b.shot("clients-team-filter").await;
    b.find("#team")
        .await
        .select_by_label("South")
        .await
        .unwrap();
    b.click("form[role=search] button[type=submit]").await;
    b.wait_text("h1", "Clients of team South").await;
    let rows = b.text("table.clients").await;
    assert!(
        rows.contains("Sam South") && !rows.contains("Nora North"),
        "{rows}"
    );
    // On a phone the filters stack above the cards.
    b.resize(390, 844).await;
    assert!(b.visible("#team").await);
    b.shot("clients-team-filter-phone").await;

    // A wrong view typed into the address drops that filter, not the team.
    let (st, html) = crate::work_pages::page(
        &app,
        &owner.token,
        &format!("/clients?view=bogus&team={north}"),
    )
    .await;
    assert_eq!(st, 200);
    assert!(html.contains("Clients of team North"), "{html}");
    assert!(html.contains("Nora North") && !html.contains("Sam South"));

    // Bob sees his own client of North; of South, which he is not in and
    // whose clients he may not see, nothing, said so.
    let (st, html) =
        crate::work_pages::page(&app, &bob_token, &format!("/clients?team={north}")).await;
    assert_eq!(st, 200);
    assert!(html.contains("Nora North") && html.contains(r#"id="team""#));
    let (st, html) =
        crate::work_pages::page(&app, &bob_token, &format!("/clients?team={south}")).await;
    assert_eq!(st, 200);
    assert!(!html.contains("Sam South") && !html.contains("Nora North"));
    assert!(
        html.contains("No client of this team that you may see"),
        "{html}"
    );
    b.finish().await;
    app.stop().await;
}
