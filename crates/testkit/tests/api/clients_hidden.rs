//! A client the caller may not see is, to that caller, no different from
//! one that does not exist (P9, P7, C2, C5): the same 404 for every path,
//! a lost claim that names no one the caller may not see, a bulk
//! reassignment of a pool that mentions only what the caller sees, and a
//! guest who edits contact details but not the status or team. And a search
//! finds what was typed, `_` and `%` included.

use super::clients::{add, client, ids};
use super::support::{accept_mailed, join, unassigned_client};
use leadteam_testkit::{TestApp, both_engines};
use reqwest::Method;
use serde_json::json;

both_engines!(
    r_p9_a_client_the_caller_may_not_see_answers_exactly_as_an_unknown_one,
    r_c2_a_lost_claim_names_the_winner_only_to_who_may_see_the_client,
    r_c2_p7_claims_lost_in_a_race_are_answered_as_each_claimer_may_see_the_client,
    r_c5_a_bulk_reassignment_of_a_pool_mentions_only_clients_the_caller_sees,
    r_p7_a_guest_edits_contact_details_but_not_the_status_or_team,
    lists_search_finds_what_was_typed_underscores_and_percent_signs_included,
);

/// Gus Guest, invited by `inviter` to `client` (P7), having accepted: his
/// session token.
async fn signed_in_guest(app: &TestApp, inviter: &str, client: i64) -> String {
    let r = app
        .post(
            inviter,
            &format!("/api/v1/clients/{client}/guests"),
            json!({"name": "Gus Guest", "email": "gus@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = accept_mailed(app, "gus@example.com").await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["session"]["token"].as_str().unwrap().to_owned()
}

async fn r_p9_a_client_the_caller_may_not_see_answers_exactly_as_an_unknown_one(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (cat, _) = join(app, &owner, "Cat", "cat@example.com", "Member").await;
    let hidden = add(app, &cat, "Cat's own").await["id"].as_i64().unwrap();
    let other = app.signup("Beta", "Zed", "zed@example.com").await;
    let foreign = add(app, &other, "Zed's own").await["id"].as_i64().unwrap();
    let unknown = foreign + 1000;
    let calls: [(Method, &str, Option<serde_json::Value>); 4] = [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"name": "Mine now"}))),
        (Method::POST, "/notes", Some(json!({"body": "hello"}))),
        (Method::POST, "/assign", Some(json!({"member_id": bob_id}))),
    ];
    for (method, tail, body) in calls {
        let answer = |id: i64| {
            let (method, body) = (method.clone(), body.clone());
            let token = bob.token.clone();
            async move {
                let r = app
                    .call(
                        method,
                        &format!("/api/v1/clients/{id}{tail}"),
                        Some(&token),
                        body,
                    )
                    .await;
                (r.status, r.body["type"].clone(), r.body["title"].clone())
            }
        };
        let of_unknown = answer(unknown).await;
        assert_eq!(of_unknown.0, 404, "{method} {tail}: {of_unknown:?}");
        assert_eq!(
            answer(hidden).await,
            of_unknown,
            "{method} {tail} of a hidden client"
        );
        assert_eq!(
            answer(foreign).await,
            of_unknown,
            "{method} {tail} of a foreign client"
        );
    }
    let (_, c) = client(app, &cat.token, hidden).await;
    assert_eq!(c["client"]["name"], "Cat's own", "nothing changed");
    assert_eq!(c["timeline"].as_array().unwrap().len(), 1, "{c}");
}

async fn r_c2_a_lost_claim_names_the_winner_only_to_who_may_see_the_client(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (cat, _) = join(app, &owner, "Cat", "cat@example.com", "Member").await;
    // A client Cat holds, which Bob (a Member: unassigned clients and his
    // own) never saw: claiming it tells him nothing of who holds it.
    let cats = add(app, &cat, "Cat's own").await["id"].as_i64().unwrap();
    let r = app
        .post(
            &bob.token,
            &format!("/api/v1/clients/{cats}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.body["title"],
        "already claimed: another member was quicker"
    );
    assert!(!r.text.contains("Cat"), "{}", r.text);
    // One Cat claimed first: Bob is told something was quicker; the owner,
    // who sees every client, is told by whom.
    let lead = unassigned_client(app, owner.account_id.unwrap(), "Hot lead").await;
    let path = format!("/api/v1/clients/{lead}/claim");
    assert_eq!(app.post(&cat.token, &path, json!({})).await.status, 200);
    let r = app.post(&bob.token, &path, json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.body["title"],
        "already claimed: another member was quicker"
    );
    let r = app.post(&owner.token, &path, json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.body["title"],
        "already claimed: this client is assigned to Cat"
    );
    let (_, c) = client(app, &cat.token, lead).await;
    assert_eq!(c["client"]["assignee_name"], "Cat", "nothing changed");
}

async fn r_c2_p7_claims_lost_in_a_race_are_answered_as_each_claimer_may_see_the_client(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (cat, _) = join(app, &owner, "Cat", "cat@example.com", "Member").await;
    let (dan, _) = join(app, &owner, "Dan", "dan@example.com", "Restricted").await;
    let lead = unassigned_client(app, owner.account_id.unwrap(), "Hot lead").await;
    // Gus is the lead's guest: he sees it, he may not claim it (P7).
    let gus = signed_in_guest(app, &owner.token, lead).await;
    // All claim at once: the claims that wait on the winner's turn are
    // answered from what it left, each as it may see the client.
    let who = [
        (bob.token.as_str(), "Bob"),
        (cat.token.as_str(), "Cat"),
        (gus.as_str(), "Gus"),
        (dan.token.as_str(), "Dan"),
    ];
    let path = format!("/api/v1/clients/{lead}/claim");
    let tries = (0..48).map(|i| app.post(who[i % 4].0, &path, json!({})));
    let results = futures::future::join_all(tries).await;
    let won: Vec<usize> = (0..48).filter(|&i| results[i].status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = who[won[0] % 4].1;
    assert!(["Bob", "Cat"].contains(&winner), "{winner} won");
    for (i, r) in results.iter().enumerate().filter(|(_, r)| r.status != 200) {
        let title = r.body["title"].as_str().unwrap_or_default();
        let name = who[i % 4].1;
        match name {
            _ if name == winner => {
                assert_eq!(
                    (r.status, title),
                    (409, "already claimed: this client is assigned to you")
                );
            }
            "Bob" | "Cat" => {
                assert_eq!(
                    (r.status, title),
                    (409, "already claimed: another member was quicker")
                );
            }
            // The guest may not claim; once the lead is taken, he is told
            // by whom, since he sees it.
            "Gus" => {
                let named = format!("already claimed: this client is assigned to {winner}");
                assert!(
                    r.status == 403 || (r.status == 409 && title == named),
                    "Gus: {} {}",
                    r.status,
                    r.text
                );
            }
            // Dan sees nothing of it, before or after: not found.
            _ => assert_eq!(r.status, 404, "Dan: {}", r.text),
        }
    }
    let (_, c) = client(app, &owner.token, lead).await;
    assert_eq!(c["client"]["assignee_name"], winner);
    let r = app
        .get(&owner.token, "/api/v1/audit?action=client.claimed")
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 1, "{}", r.text);
}

async fn r_c5_a_bulk_reassignment_of_a_pool_mentions_only_clients_the_caller_sees(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (dan, dan_id) = join(app, &owner, "Dan", "dan@example.com", "Restricted").await;
    let bobs = add(app, &bob, "Bob's own").await["id"].as_i64().unwrap();
    let lead = unassigned_client(app, owner.account_id.unwrap(), "Waiting lead").await;
    for selection in [
        json!({"from_member": bob_id}),
        json!({"all_unassigned": true}),
    ] {
        let mut body = selection.clone();
        body["to"] = json!(dan_id);
        body["team_view"] = json!(true);
        let r = app
            .post(&dan.token, "/api/v1/clients/bulk-assign", body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["results"], json!([]), "{selection}: {}", r.text);
        assert_eq!(r.body["assigned"], 0);
    }
    // Named by id, a hidden client is not found, as an unknown one.
    let r = app
        .post(
            &dan.token,
            "/api/v1/clients/bulk-assign",
            json!({"to": dan_id, "client_ids": [bobs], "team_view": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["results"][0]["outcome"], "not_found");
    let (_, c) = client(app, &bob.token, bobs).await;
    assert_eq!(c["client"]["assignee_id"], bob_id, "nothing changed");
    let (_, c) = client(app, &owner.token, lead).await;
    assert_eq!(c["client"]["assignee_id"], json!(null), "nothing changed");
}

async fn r_p7_a_guest_edits_contact_details_but_not_the_status_or_team(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let shared = add(app, &owner, "Shared").await["id"].as_i64().unwrap();
    let team = app
        .post(&owner.token, "/api/v1/teams", json!({"name": "North"}))
        .await;
    assert_eq!(team.status, 201, "{}", team.text);
    let team = team.body["id"].as_i64().unwrap();
    let gus = signed_in_guest(app, &owner.token, shared).await;
    let path = format!("/api/v1/clients/{shared}");
    for change in [
        json!({"status": "won"}),
        json!({"team_id": team}),
        // A team id is not looked up for him: no way to learn which exist.
        json!({"team_id": 999_999}),
        json!({"name": "Renamed", "status": "lost"}),
    ] {
        let r = app.patch(&gus, &path, change.clone()).await;
        assert_eq!(r.status, 403, "{change}: {}", r.text);
    }
    let (_, c) = client(app, &owner.token, shared).await;
    assert_eq!(
        (
            &c["client"]["name"],
            &c["client"]["status"],
            &c["client"]["team_id"]
        ),
        (&json!("Shared"), &json!("open"), &json!(null)),
        "nothing changed"
    );
    // Contact details, and the status as it is (a form sends it), he may.
    let r = app
        .patch(
            &gus,
            &path,
            json!({"phone": "+44 20 7946 0000", "status": "open"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, c) = client(app, &owner.token, shared).await;
    assert_eq!(c["client"]["phone"], "+442079460000");
    // The assignee changes them.
    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"status": "won", "team_id": team}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn lists_search_finds_what_was_typed_underscores_and_percent_signs_included(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut named = std::collections::HashMap::new();
    for (name, email) in [
        ("First Last", Some("first_last@acme.io")),
        ("Firstxlast", Some("firstxlast@acme.io")),
        ("100% sure", None),
        ("100 units", None),
        ("Back\\slash", None),
    ] {
        let r = app
            .post(
                &owner.token,
                "/api/v1/clients",
                json!({"name": name, "email": email}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        named.insert(name, r.body["id"].as_i64().unwrap());
    }
    let search = |q: &'static str| {
        let token = owner.token.clone();
        async move {
            let url = format!(
                "/api/v1/clients?view=all&q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let r = app.get(&token, &url).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            ids(&r.body)
        }
    };
    assert_eq!(search("first_last@acme.io").await, [named["First Last"]]);
    assert_eq!(search("t_l").await, [named["First Last"]]);
    assert_eq!(search("100%").await, [named["100% sure"]]);
    assert_eq!(search("%").await, [named["100% sure"]]);
    assert_eq!(search("_").await, [named["First Last"]]);
    assert_eq!(search("k\\s").await, [named["Back\\slash"]]);
    assert_eq!(search("100").await.len(), 2);
}
