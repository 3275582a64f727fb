//! Clients: scope, the assignee-only rule, claims, assignment, bulk
//! reassignment, deletion, delivery, guests, alerts, team view, export (C1-C9,
//! P2, P6, P7, M6, M7, I2, X3).

use super::support::{join, unassigned_client};
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_p6_p2_a_member_adds_a_client_assigned_to_itself_and_others_cannot_see_it,
    r_c1_only_the_assignee_updates_whatever_its_permissions,
    r_c2_fifty_simultaneous_claims_give_one_winner_and_one_audit_row,
    r_c3_c4_c7_assign_and_reassign_never_back_to_unassigned_with_alerts,
    r_c5_bulk_reassign_lists_own_clients_team_view_any_and_races_claims,
    r_c6_delete_only_own_clients_with_the_permission,
    r_c8_team_view_setting_and_overview,
    lists_paginate_search_validate_and_flag_duplicates,
);

pub(super) async fn add(app: &TestApp, u: &User, name: &str) -> Value {
    let r = app
        .post(&u.token, "/api/v1/clients", json!({"name": name}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub(super) async fn client(app: &TestApp, token: &str, id: i64) -> (u16, Value) {
    let r = app.get(token, &format!("/api/v1/clients/{id}")).await;
    (r.status, r.body)
}

pub(super) fn ids(body: &Value) -> Vec<i64> {
    body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn r_p6_p2_a_member_adds_a_client_assigned_to_itself_and_others_cannot_see_it(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (carol, _) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let c = add(app, &bob, "Lead One").await;
    assert_eq!(c["assignee_id"], bob_id);
    assert_eq!(c["unassigned"], false);
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        ids(&app.get(&bob.token, "/api/v1/clients?view=mine").await.body),
        [id]
    );
    // A Member sees unassigned and its own clients, not others' (P2).
    assert_eq!(client(app, &carol.token, id).await.0, 404);
    assert!(ids(&app.get(&carol.token, "/api/v1/clients").await.body).is_empty());
    // The owner (clients.view_others) sees it.
    assert_eq!(client(app, &owner.token, id).await.0, 200);
    assert_eq!(
        ids(&app
            .get(&owner.token, "/api/v1/clients?view=others")
            .await
            .body),
        [id]
    );
    let r = app
        .post(&bob.token, "/api/v1/clients", json!({"name": " "}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("name")));
    assert_eq!(app.count("clients").await, 1);
}

async fn r_c1_only_the_assignee_updates_whatever_its_permissions(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (_, carol_id) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let id = add(app, &bob, "Lead").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/clients/{id}");
    let before = client(app, &owner.token, id).await.1;
    let r = app
        .patch(&owner.token, &path, json!({"name": "Renamed by owner"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(
            &owner.token,
            &format!("{path}/notes"),
            json!({"body": "owner note"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        client(app, &owner.token, id).await.1,
        before,
        "nothing changed"
    );
    let r = app.patch(&bob.token, &path, json!({"name": "Lead (qualified)", "email": "lead@x.io", "phone": "+1 555 0100", "fields": {"city": "Lyon"}, "status": "contacted"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["phone"], "+15550100");
    let r = app.patch(&bob.token, &path, json!({"email": "nope"})).await;
    assert_eq!((r.status, r.field()), (422, Some("email")));
    assert_eq!(
        app.post(
            &bob.token,
            &format!("{path}/notes"),
            json!({"body": "called"})
        )
        .await
        .status,
        201
    );
    // After a reassignment the previous assignee may no longer update.
    let r = app
        .post(
            &owner.token,
            &format!("{path}/assign"),
            json!({"member_id": carol_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .patch(&bob.token, &path, json!({"name": "mine again"}))
        .await;
    assert!(r.status == 404 || r.status == 403, "{}", r.status);
    let detail = client(app, &owner.token, id).await.1;
    assert_eq!(detail["client"]["name"], "Lead (qualified)");
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "updated", "note", "assigned"]);
}

async fn r_c2_fifty_simultaneous_claims_give_one_winner_and_one_audit_row(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut claimers = Vec::new();
    for i in 0..5 {
        let (u, _) = join(
            app,
            &owner,
            &format!("Seller {i}"),
            &format!("s{i}@example.com"),
            "Member",
        )
        .await;
        claimers.push(u);
    }
    let id = unassigned_client(app, owner.account_id.unwrap(), "Hot lead").await;
    let path = format!("/api/v1/clients/{id}/claim");
    let tries = (0..50).map(|i| app.post(&claimers[i % 5].token, &path, json!({})));
    let results = futures::future::join_all(tries).await;
    let winners: Vec<&leadteam_testkit::Resp> =
        results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner_name = winners[0].body["assignee_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(results.iter().filter(|r| r.status != 200).count(), 49);
    // The winner's other claims are told it is theirs; every other loser
    // that something was quicker, not by whom: a Member does not see the
    // winner's client any more.
    for (i, l) in results.iter().enumerate().filter(|(_, r)| r.status != 200) {
        assert_eq!(l.status, 409, "{}", l.text);
        let title = l.body["title"].as_str().unwrap();
        if format!("Seller {}", i % 5) == winner_name {
            assert_eq!(title, "already claimed: this client is assigned to you");
        } else {
            assert_eq!(title, "already claimed: another member was quicker");
        }
    }
    let r = app
        .get(&owner.token, "/api/v1/audit?action=client.claimed")
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 1);
    // A member without clients.view_unassigned cannot claim.
    let id2 = unassigned_client(app, owner.account_id.unwrap(), "Other lead").await;
    let (rita, _) = join(app, &owner, "Rita", "rita@example.com", "Restricted").await;
    let r = app
        .post(
            &rita.token,
            &format!("/api/v1/clients/{id2}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
}

async fn r_c3_c4_c7_assign_and_reassign_never_back_to_unassigned_with_alerts(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (carol, carol_id) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let id = unassigned_client(app, owner.account_id.unwrap(), "Lead").await;
    let path = format!("/api/v1/clients/{id}/assign");
    // A member with only clients.view_unassigned may assign to itself only.
    let r = app
        .post(&bob.token, &path, json!({"member_id": carol_id}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        client(app, &owner.token, id).await.1["client"]["assignee_id"],
        Value::Null
    );
    let r = app
        .post(&bob.token, &path, json!({"member_id": bob_id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A self-claim alerts nobody; an assignment by someone else alerts the assignee (C7).
    assert_eq!(
        app.get(&bob.token, "/api/v1/notifications").await.body["unread"],
        0
    );
    let r = app
        .post(&owner.token, &path, json!({"member_id": carol_id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let n = app.get(&carol.token, "/api/v1/notifications").await;
    assert_eq!(n.body["unread"], 1);
    assert_eq!(n.body["notifications"][0]["client_id"], id);
    assert_eq!(n.body["notifications"][0]["kind"], "client_assigned");
    let nid = n.body["notifications"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.post(
            &bob.token,
            &format!("/api/v1/notifications/{nid}/read"),
            json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &carol.token,
            &format!("/api/v1/notifications/{nid}/read"),
            json!({})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.get(&carol.token, "/api/v1/notifications").await.body["unread"],
        0
    );
    // Never back to unassigned (C4): there is no way to say so.
    let r = app
        .post(&owner.token, &path, json!({"member_id": null}))
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .patch(
            &carol.token,
            &format!("/api/v1/clients/{id}"),
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("assignee_id")));
    // Not to a deactivated member.
    app.post(
        &owner.token,
        &format!("/api/v1/members/{bob_id}/deactivate"),
        json!({}),
    )
    .await;
    let r = app
        .post(&owner.token, &path, json!({"member_id": bob_id}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("member_id")));
    assert_eq!(
        client(app, &owner.token, id).await.1["client"]["assignee_id"],
        carol_id
    );
    let audit = app
        .get(&owner.token, "/api/v1/audit?action=client.assigned")
        .await;
    assert_eq!(audit.body["entries"].as_array().unwrap().len(), 2);
}

async fn r_c5_bulk_reassign_lists_own_clients_team_view_any_and_races_claims(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Manager").await;
    let (carol, carol_id) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let mine = add(app, &bob, "Bob's").await["id"].as_i64().unwrap();
    let theirs = add(app, &carol, "Carol's").await["id"].as_i64().unwrap();
    // Ordinary list: only one's own clients.
    let r = app
        .post(
            &bob.token,
            "/api/v1/clients/bulk-assign",
            json!({"to": carol_id, "client_ids": [mine, theirs]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["results"][0]["outcome"], "assigned");
    assert_eq!(r.body["results"][1]["outcome"], "refused");
    // Team view: any visible client.
    let r = app
        .post(
            &bob.token,
            "/api/v1/clients/bulk-assign",
            json!({"to": bob_id, "from_member": carol_id, "team_view": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assigned"], 2);
    let r = app
        .post(
            &bob.token,
            "/api/v1/clients/bulk-assign",
            json!({"to": bob_id, "client_ids": [mine], "all_unassigned": true}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("client_ids")));

    // All unassigned, racing claims: every client ends with exactly one assignee.
    let account = owner.account_id.unwrap();
    let mut pool = Vec::new();
    for i in 0..30 {
        pool.push(unassigned_client(app, account, &format!("Lead {i}")).await);
    }
    let bulk = app.post(
        &owner.token,
        "/api/v1/clients/bulk-assign",
        json!({"to": bob_id, "all_unassigned": true, "team_view": true}),
    );
    let paths: Vec<String> = pool
        .iter()
        .map(|id| format!("/api/v1/clients/{id}/claim"))
        .collect();
    let claims =
        futures::future::join_all(paths.iter().map(|p| app.post(&carol.token, p, json!({}))));
    let (bulk, claims) = futures::future::join(bulk, claims).await;
    assert_eq!(bulk.status, 200, "{}", bulk.text);
    let claimed: Vec<i64> = pool
        .iter()
        .zip(&claims)
        .filter(|(_, r)| r.status == 200)
        .map(|(id, _)| *id)
        .collect();
    let bulk_assigned: Vec<i64> = bulk.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "assigned")
        .map(|r| r["client_id"].as_i64().unwrap())
        .filter(|id| pool.contains(id))
        .collect();
    for id in &pool {
        let c = client(app, &owner.token, *id).await.1;
        let a = c["client"]["assignee_id"].as_i64().expect("assigned");
        let by_claim = claimed.contains(id);
        let by_bulk = bulk_assigned.contains(id);
        assert!(
            by_claim ^ by_bulk,
            "client {id}: claim {by_claim} bulk {by_bulk}"
        );
        assert_eq!(a, if by_claim { carol_id } else { bob_id });
    }
    assert!(claims.iter().all(|r| r.status == 200 || r.status == 409));
}

async fn r_c6_delete_only_own_clients_with_the_permission(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (mia, _) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;
    let bobs = add(app, &bob, "Bob's").await["id"].as_i64().unwrap();
    let mias = add(app, &mia, "Mia's").await["id"].as_i64().unwrap();
    let r = app
        .delete(&bob.token, &format!("/api/v1/clients/{bobs}"))
        .await;
    assert_eq!(r.status, 403, "Member lacks clients.delete");
    assert_eq!(r.body["missing_permission"], "clients.delete");
    let r = app
        .delete(&mia.token, &format!("/api/v1/clients/{bobs}"))
        .await;
    assert_eq!(r.status, 403, "not assigned to Mia");
    let r = app
        .delete(&owner.token, &format!("/api/v1/clients/{bobs}"))
        .await;
    assert_eq!(r.status, 403, "not even the owner deletes another's client");
    assert_eq!(app.count("clients").await, 2);
    assert_eq!(
        app.delete(&mia.token, &format!("/api/v1/clients/{mias}"))
            .await
            .status,
        204
    );
    assert_eq!(app.count("clients").await, 1);
    let audit = app
        .get(&owner.token, "/api/v1/audit?action=client.deleted")
        .await;
    assert_eq!(audit.body["entries"].as_array().unwrap().len(), 1);
}

async fn r_c8_team_view_setting_and_overview(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (rita, _) = join(app, &owner, "Rita", "rita@example.com", "Member").await;
    let account = owner.account_id.unwrap();
    let own = add(app, &bob, "Bob's").await["id"].as_i64().unwrap();
    let free = unassigned_client(app, account, "Free lead").await;
    add(app, &owner, "Ann's").await;
    // Bob sees his own and unassigned by default; he may narrow his lists.
    assert_eq!(
        ids(&app.get(&bob.token, "/api/v1/clients").await.body),
        [free, own]
    );
    let tv = app.get(&bob.token, "/api/v1/me/team-view").await;
    assert_eq!(tv.body["choices"], json!(["mine", "unassigned"]));
    let r = app
        .put(
            &bob.token,
            "/api/v1/me/team-view",
            json!({"kinds": ["others"]}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("kinds")));
    let r = app
        .put(
            &bob.token,
            "/api/v1/me/team-view",
            json!({"kinds": ["mine"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        ids(&app.get(&bob.token, "/api/v1/clients").await.body),
        [own]
    );
    assert_eq!(
        ids(&app
            .get(&bob.token, "/api/v1/clients?view=unassigned")
            .await
            .body),
        [free]
    );
    // The team tab ignores the setting.
    let o = app.get(&bob.token, "/api/v1/team-overview").await;
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.body["unassigned"], 1);
    let members = o.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "Bob sees only his own row: {members:?}");
    assert_eq!(members[0]["member_id"], bob_id);
    // The owner sees every member.
    let o = app.get(&owner.token, "/api/v1/team-overview").await;
    assert_eq!(o.body["members"].as_array().unwrap().len(), 3);
    assert_eq!(o.body["unassigned"], 1);
    // Members with only their own clients have no setting and no team tab.
    let id = app.get(&owner.token, "/api/v1/members").await.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "rita@example.com")
        .unwrap()["id"]
        .clone();
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{id}"),
        json!({"permissions": ["team.view"]}),
    )
    .await;
    let r = app
        .put(
            &rita.token,
            "/api/v1/me/team-view",
            json!({"kinds": ["mine"]}),
        )
        .await;
    assert_eq!(r.status, 403);
    // Any of three permissions would do: the refusal names all three.
    let r = app.get(&rita.token, "/api/v1/team-overview").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["missing_any_of"],
        json!([
            "clients.view_others",
            "clients.view_team",
            "clients.view_unassigned"
        ])
    );
    assert_eq!(
        app.get(&rita.token, "/api/v1/me/team-view").await.body["choices"],
        json!(["mine"])
    );
}

async fn lists_paginate_search_validate_and_flag_duplicates(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    for i in 0..7 {
        app.post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": format!("Client {i}"), "email": format!("c{i}@x.io")}),
        )
        .await;
    }
    let p1 = app.get(&owner.token, "/api/v1/clients?limit=3").await;
    assert_eq!(ids(&p1.body).len(), 3);
    let after = p1.body["next_after"].as_i64().unwrap();
    let p2 = app
        .get(
            &owner.token,
            &format!("/api/v1/clients?limit=3&after={after}"),
        )
        .await;
    let p3 = app
        .get(
            &owner.token,
            &format!("/api/v1/clients?limit=3&after={}", p2.body["next_after"]),
        )
        .await;
    let mut all = ids(&p1.body);
    all.extend(ids(&p2.body));
    all.extend(ids(&p3.body));
    assert_eq!(all.len(), 7);
    assert!(
        all.windows(2).all(|w| w[0] > w[1]),
        "stable newest-first order"
    );
    assert_eq!(p3.body["next_after"], Value::Null);
    let r = app.get(&owner.token, "/api/v1/clients?q=client%203").await;
    assert_eq!(ids(&r.body).len(), 1);
    let r = app.get(&owner.token, "/api/v1/clients?q=c5@x").await;
    assert_eq!(ids(&r.body).len(), 1);
    for (bad, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("view=everything", "view"),
        // No kind asked for is no view, not an empty list.
        ("view=", "view"),
        ("view=,", "view"),
    ] {
        let r = app
            .get(&owner.token, &format!("/api/v1/clients?{bad}"))
            .await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some(field)),
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": "Again", "email": "C1@X.io"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["duplicates"].as_array().unwrap().len(), 1);
}
