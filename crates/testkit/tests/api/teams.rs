//! Teams (T1): admins create, rename and delete teams and set their members;
//! a member may be in several teams; other accounts' teams are invisible (X3).

use crate::support::{join, set_permissions};
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_t1_admins_create_rename_and_delete_teams_with_unique_names,
    r_t1_only_admins_change_teams_and_refusals_change_nothing,
    r_t1_members_are_set_and_a_member_may_be_in_several_teams,
    r_t1_x3_foreign_team_ids_answer_404_and_change_nothing,
    r_t1_x1_team_changes_are_audited_with_before_and_after,
    r_t1_racing_creates_of_one_name_make_one_team,
    r_p2_a_list_filtered_to_a_team_shows_what_the_caller_sees_of_that_team,
);

async fn teams(app: &TestApp, token: &str) -> Value {
    let r = app.get(token, "/api/v1/teams").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["teams"].clone()
}

async fn create(app: &TestApp, by: &User, body: Value) -> Value {
    let r = app.post(&by.token, "/api/v1/teams", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn r_t1_admins_create_rename_and_delete_teams_with_unique_names(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (admin, _) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let (_, mia) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;

    let north = create(app, &owner, json!({"name": "  North  "})).await;
    assert_eq!(north["name"], "North");
    assert_eq!(north["members"], json!([]));
    assert_eq!(north["member_count"], 0);
    let south = create(app, &admin, json!({"name": "South", "member_ids": [mia]})).await;
    assert_eq!(south["members"], json!([{"id": mia, "name": "Mia"}]));
    assert_eq!(south["member_count"], 1);

    // Names are unique per account, whatever the case.
    let before = teams(app, &owner.token).await;
    let r = app
        .post(&owner.token, "/api/v1/teams", json!({"name": "north"}))
        .await;
    assert_eq!((r.status, r.field()), (409, Some("name")), "{}", r.text);
    let south_path = format!("/api/v1/teams/{}", south["id"]);
    let r = app
        .patch(&admin.token, &south_path, json!({"name": "NORTH"}))
        .await;
    assert_eq!((r.status, r.field()), (409, Some("name")), "{}", r.text);
    for bad in ["", "   ", &"x".repeat(101)] {
        let r = app
            .post(&owner.token, "/api/v1/teams", json!({"name": bad}))
            .await;
        assert_eq!((r.status, r.field()), (422, Some("name")), "{}", r.text);
    }
    let r = app.post(&owner.token, "/api/v1/teams", json!({})).await;
    assert_eq!((r.status, r.field()), (422, Some("name")), "{}", r.text);
    assert_eq!(
        teams(app, &owner.token).await,
        before,
        "refusals change nothing"
    );

    // Renaming to its own name in another case is fine.
    let r = app
        .patch(&admin.token, &south_path, json!({"name": "SOUTH"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .patch(&admin.token, &south_path, json!({"name": "South East"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "South East");
    assert_eq!(r.body["member_count"], 1, "renaming keeps the members");
    assert_eq!(
        names(&teams(app, &owner.token).await),
        ["North", "South East"]
    );

    // Deleting a team takes its memberships, not the members.
    let r = app.delete(&owner.token, &south_path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(names(&teams(app, &owner.token).await), ["North"]);
    assert_eq!(app.count("team_members").await, 0);
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{mia}"))
        .await;
    assert_eq!((r.status, &r.body["teams"]), (200, &json!([])));
    let r = app.delete(&owner.token, &south_path).await;
    assert_eq!(r.status, 404);
    let r = app
        .patch(
            &owner.token,
            "/api/v1/teams/999999999",
            json!({"name": "X"}),
        )
        .await;
    assert_eq!(r.status, 404);
}

async fn r_t1_only_admins_change_teams_and_refusals_change_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (mia, mia_id) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (rita, _) = join(app, &owner, "Rita", "rita@example.com", "Restricted").await;
    let t = create(app, &owner, json!({"name": "North"})).await;
    let path = format!("/api/v1/teams/{}", t["id"]);
    let before = teams(app, &owner.token).await;

    // Everyone with team.view reads the teams; a Restricted member does not (P7).
    assert_eq!(teams(app, &mia.token).await, before);
    assert_eq!(teams(app, &bob.token).await, before);
    assert_eq!(app.get(&rita.token, "/api/v1/teams").await.status, 403);

    // Not admins: a Manager, a Member, a Restricted member (T1).
    for user in [&mia, &bob, &rita] {
        let r = app
            .post(&user.token, "/api/v1/teams", json!({"name": "Mine"}))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.patch(&user.token, &path, json!({"name": "Mine"})).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app
            .put(
                &user.token,
                &format!("{path}/members"),
                json!({"member_ids": [mia_id]}),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.delete(&user.token, &path).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    assert_eq!(teams(app, &owner.token).await, before, "nothing changed");
    assert_eq!(app.count("teams").await, 1);
    assert_eq!(app.count("team_members").await, 0);

    // A member holding account.manage is an admin, whatever its role's name.
    set_permissions(app, &owner, mia_id, &["team.view", "account.manage"]).await;
    let r = app.patch(&mia.token, &path, json!({"name": "Mine"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn r_t1_members_are_set_and_a_member_may_be_in_several_teams(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (_, cid) = join(app, &owner, "Cid", "cid@example.com", "Member").await;
    let other = app.signup("Other", "Olga", "olga@example.com").await;
    let (_, foreign) = join(app, &other, "Fred", "fred@example.com", "Member").await;
    let a = create(app, &owner, json!({"name": "A"})).await;
    let b = create(app, &owner, json!({"name": "B"})).await;
    let a_members = format!("/api/v1/teams/{}/members", a["id"]);
    let b_members = format!("/api/v1/teams/{}/members", b["id"]);

    let r = app
        .put(
            &owner.token,
            &a_members,
            json!({"member_ids": [cid, bob, bob]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["members"],
        json!([{"id": bob, "name": "Bob"}, {"id": cid, "name": "Cid"}]),
        "by name, each once"
    );
    assert_eq!(r.body["member_count"], 2);
    let r = app
        .put(&owner.token, &b_members, json!({"member_ids": [bob]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{bob}"))
        .await;
    let bob_teams: Vec<&str> = r.body["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(bob_teams, ["A", "B"], "Bob is in two teams");

    // Every id must be a member of the caller's account.
    let before = teams(app, &owner.token).await;
    for ids in [json!([bob, foreign]), json!([999_999_999]), json!([-1])] {
        let r = app
            .put(&owner.token, &a_members, json!({"member_ids": ids}))
            .await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some("member_ids")),
            "{}",
            r.text
        );
    }
    let r = app
        .post(
            &owner.token,
            "/api/v1/teams",
            json!({"name": "C", "member_ids": [foreign]}),
        )
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("member_ids")),
        "{}",
        r.text
    );
    let r = app
        .put(&owner.token, &a_members, json!({"member_ids": "bob"}))
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("member_ids")),
        "{}",
        r.text
    );
    assert_eq!(
        teams(app, &owner.token).await,
        before,
        "refusals change nothing"
    );
    assert_eq!(app.count("team_members").await, 3);

    // Removing every member.
    let r = app
        .put(&owner.token, &a_members, json!({"member_ids": []}))
        .await;
    assert_eq!((r.status, &r.body["member_count"]), (200, &json!(0)));
    assert_eq!(app.count("team_members").await, 1);
}

async fn r_t1_x3_foreign_team_ids_answer_404_and_change_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let t = create(app, &owner, json!({"name": "North", "member_ids": [bob]})).await;
    let path = format!("/api/v1/teams/{}", t["id"]);
    let intruder = app.signup("Other", "Olga", "olga@example.com").await;
    let (_, olga_member) = join(app, &intruder, "Oleg", "oleg@example.com", "Member").await;
    let before = teams(app, &owner.token).await;

    let r = app
        .patch(&intruder.token, &path, json!({"name": "Mine"}))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app
        .put(
            &intruder.token,
            &format!("{path}/members"),
            json!({"member_ids": [olga_member]}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.delete(&intruder.token, &path).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(teams(app, &intruder.token).await, json!([]));
    assert_eq!(teams(app, &owner.token).await, before, "nothing changed");
    // The other account may use the same name: uniqueness is per account.
    create(app, &intruder, json!({"name": "North"})).await;
}

async fn r_t1_x1_team_changes_are_audited_with_before_and_after(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let t = create(app, &owner, json!({"name": "North"})).await;
    let path = format!("/api/v1/teams/{}", t["id"]);
    app.patch(&owner.token, &path, json!({"name": "South"}))
        .await;
    app.put(
        &owner.token,
        &format!("{path}/members"),
        json!({"member_ids": [bob]}),
    )
    .await;
    app.delete(&owner.token, &path).await;
    // A refused change writes no audit row.
    app.patch(&owner.token, &path, json!({"name": "Gone"}))
        .await;

    let r = app.get(&owner.token, "/api/v1/audit?limit=4").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = r.body["entries"].as_array().unwrap();
    let actions: Vec<&str> = e.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "team.deleted",
            "team.members_set",
            "team.renamed",
            "team.created"
        ]
    );
    assert!(e.iter().all(|e| e["target_id"] == t["id"]));
    assert_eq!(e[3]["before"], Value::Null);
    assert_eq!(e[3]["after"]["name"], "North");
    assert_eq!(
        (&e[2]["before"]["name"], &e[2]["after"]["name"]),
        (&json!("North"), &json!("South"))
    );
    assert_eq!(
        (&e[1]["before"]["members"], &e[1]["after"]["members"]),
        (&json!([]), &json!([bob]))
    );
    assert_eq!(e[0]["before"]["members"], json!([bob]));
    assert_eq!(e[0]["after"], Value::Null);
    assert!(e[0]["actor_member_id"].is_i64());
}

async fn r_t1_racing_creates_of_one_name_make_one_team(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let names = [
        "Night", "night", "NIGHT", "Night", "nIGHT", "Night", "night", "Night",
    ];
    let calls = names
        .iter()
        .map(|n| app.post(&owner.token, "/api/v1/teams", json!({"name": n})));
    let results = futures::future::join_all(calls).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [201, 409, 409, 409, 409, 409, 409, 409],
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.status == 409)
            .all(|r| r.field() == Some("name"))
    );
    assert_eq!(app.count("teams").await, 1);
}

/// P2, C8: a list filtered to one team (`?team=`) shows exactly the clients
/// of that team the caller may see: its own, the others' of a team it
/// sees, never those of a team it does not see (issue 19: such a page reads
/// the team's clients part by part).
async fn r_p2_a_list_filtered_to_a_team_shows_what_the_caller_sees_of_that_team(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (cal, cal_id) = join(app, &owner, "Cal", "cal@example.com", "Member").await;
    let (dan, dan_id) = join(app, &owner, "Dan", "dan@example.com", "Member").await;
    let t = create(
        app,
        &owner,
        json!({"name": "T", "member_ids": [bob_id, cal_id]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let u = create(app, &owner, json!({"name": "U", "member_ids": [dan_id]})).await["id"]
        .as_i64()
        .unwrap();
    // A client added by `by` (its assignee), in `team`.
    let client_in = |by: &User, name: &'static str, team: Option<i64>| {
        let token = by.token.clone();
        async move {
            let r = app
                .post(&token, "/api/v1/clients", json!({"name": name}))
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            let id = r.body["id"].as_i64().unwrap();
            if let Some(team) = team {
                let r = app
                    .patch(
                        &token,
                        &format!("/api/v1/clients/{id}"),
                        json!({"team_id": team}),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
            id
        }
    };
    let bob_t = client_in(&bob, "Bob's in T", Some(t)).await;
    let bob_u = client_in(&bob, "Bob's in U", Some(u)).await;
    let bob_none = client_in(&bob, "Bob's in no team", None).await;
    let cal_t1 = client_in(&cal, "Cal's first", Some(t)).await;
    let cal_t2 = client_in(&cal, "Cal's second", Some(t)).await;
    let dan_u = client_in(&dan, "Dan's", Some(u)).await;
    // Bob sees his teams' clients (team T), as well as his own.
    set_permissions(
        app,
        &owner,
        bob_id,
        &["clients.view_team", "clients.view_unassigned"],
    )
    .await;
    let list = |token: String, query: String| async move {
        let r = app
            .get(&token, &format!("/api/v1/clients?view=all{query}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        super::clients::ids(&r.body)
    };
    let bob_list = |query: String| list(bob.token.clone(), query);
    assert_eq!(
        bob_list(String::new()).await,
        [cal_t2, cal_t1, bob_none, bob_u, bob_t],
        "Bob's whole list"
    );
    // His own and Cal's of team T, newest first, a page at a time too.
    assert_eq!(
        bob_list(format!("&team={t}")).await,
        [cal_t2, cal_t1, bob_t]
    );
    assert_eq!(
        bob_list(format!("&team={t}&limit=2")).await,
        [cal_t2, cal_t1],
        "the first page"
    );
    assert_eq!(
        bob_list(format!("&team={t}&limit=2&after={cal_t1}")).await,
        [bob_t],
        "the next page"
    );
    // Of team U, which he does not see, only his own.
    assert_eq!(bob_list(format!("&team={u}")).await, [bob_u]);
    // The owner sees all of team U.
    assert_eq!(
        list(owner.token.clone(), format!("&team={u}")).await,
        [dan_u, bob_u]
    );
}
