//! Agent licences (B4) under concurrent "start work" calls, and credits (B5),
//! over HTTP.

use crate::support::{accept_mailed, billing, footprint, join, last_audit, role_id, title};
use leadteam_domain::{AccountId, MemberId};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_b4_concurrent_start_work_never_puts_more_agents_on_duty_than_licences,
    r_b5_credits_are_allocated_taken_back_never_below_zero_and_ledgered,
    r_b4_a5_only_agents_on_duty_get_leads_when_licences_are_enforced,
    r_b5_claiming_costs_credits_when_the_plan_says_so,
);

async fn r_b4_concurrent_start_work_never_puts_more_agents_on_duty_than_licences(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let r = app
        .patch(&owner.token, "/api/v1/billing", json!({"licences": 3}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut agents = Vec::new();
    for i in 0..10 {
        let (u, id) = join(app, &owner, "Agent", &format!("a{i}@acme.test"), "Member").await;
        agents.push((u, id));
    }
    let calls = agents
        .iter()
        .map(|(u, _)| app.post(&u.token, "/api/v1/me/duty", json!({})));
    let answers = futures::future::join_all(calls).await;
    let started: Vec<usize> = (0..10).filter(|&i| answers[i].status == 201).collect();
    assert_eq!(
        started.len(),
        3,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 201) {
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(
            title(r).starts_with("no licence is free (3 of 3 in use)"),
            "{}",
            title(r)
        );
    }
    assert_eq!(app.count("on_duty").await, 3);

    // Refused: still uses everything else.
    let refused = (0..10).find(|i| !started.contains(i)).unwrap();
    let token = &agents[refused].0.token;
    assert_eq!(app.get(token, "/api/v1/me").await.status, 200);
    assert_eq!(app.get(token, "/api/v1/members").await.status, 200);
    let r = app.get(token, "/api/v1/me/duty").await;
    assert_eq!(
        (&r.body["on_duty"], &r.body["licences"]["in_use"]),
        (&json!(false), &json!(3))
    );

    // Starting again while on duty changes nothing.
    let first = &agents[started[0]].0;
    let r = app.post(&first.token, "/api/v1/me/duty", json!({})).await;
    assert_eq!((r.status, &r.body["on_duty"]), (200, &json!(true)));
    // Going off duty frees a licence for the refused agent.
    let r = app.delete(&first.token, "/api/v1/me/duty").await;
    assert_eq!((r.status, &r.body["on_duty"]), (200, &json!(false)));
    let r = app.post(token, "/api/v1/me/duty", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Signing out frees the licence.
    let second = &agents[started[1]].0;
    assert_eq!(
        app.delete(&second.token, "/api/v1/sessions/current")
            .await
            .status,
        204
    );
    assert_eq!(app.count("on_duty").await, 2);
    // Licences cannot go below the agents on duty.
    let r = app
        .patch(&owner.token, "/api/v1/billing", json!({"licences": 1}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    // Deactivation frees the licence.
    let third = agents[started[2]].1;
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{third}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.count("on_duty").await, 1);
    assert_eq!(billing(app, &owner).await["licences"]["in_use"], 1);
    let (_, b, a) = last_audit(app, "duty.started").await;
    assert_eq!(
        (b["on_duty"].clone(), a["on_duty"].clone()),
        (json!(false), json!(true))
    );
    // A member without the agent flag cannot start work.
    let rid = role_id(app, &owner, "Member").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": "Nat", "email": "nat@acme.test", "role_id": rid, "agent": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let nat = accept_mailed(app, "nat@acme.test").await;
    let nat = nat.body["session"]["token"].as_str().unwrap().to_owned();
    let r = app.post(&nat, "/api/v1/me/duty", json!({})).await;
    assert_eq!(r.status, 403, "{}", r.text);
}

async fn r_b5_credits_are_allocated_taken_back_never_below_zero_and_ledgered(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let owner_member = app.get(&owner.token, "/api/v1/me").await.body["member_id"].clone();
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@acme.test", "Member").await;
    let path = format!("/api/v1/members/{bob_id}/credits");

    let r = app
        .post(
            &owner.token,
            &path,
            json!({"delta": 100, "reason": "monthly allowance"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["balance"], 100);
    let e = &r.body["ledger"][0];
    assert_eq!(
        (
            &e["delta"],
            &e["balance_after"],
            &e["actor_member_id"],
            &e["reason"]
        ),
        (
            &json!(100),
            &json!(100),
            &owner_member,
            &json!("monthly allowance")
        )
    );

    // Taking back more than the balance is refused; nothing is written.
    let before = footprint(app).await;
    let r = app
        .post(
            &owner.token,
            &path,
            json!({"delta": -150, "reason": "correction"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(title(&r), "cannot take back 150 credits: Bob has only 100");
    for (body, field) in [
        (json!({"delta": 0, "reason": "nothing"}), "delta"),
        (json!({"delta": 5, "reason": "  "}), "reason"),
        (json!({"delta": 5}), "reason"),
    ] {
        let r = app.post(&owner.token, &path, body).await;
        assert_eq!((r.status, r.field()), (422, Some(field)), "{}", r.text);
    }
    // Only billing.manage allocates; a member sees its own credits only.
    let r = app
        .post(&bob.token, &path, json!({"delta": 5, "reason": "me"}))
        .await;
    assert_eq!(r.status, 403);
    let owner_path = format!("/api/v1/members/{owner_member}/credits");
    assert_eq!(app.get(&bob.token, &owner_path).await.status, 403);
    assert_eq!(footprint(app).await, before, "nothing was written");

    let r = app
        .post(
            &owner.token,
            &path,
            json!({"delta": -30, "reason": "unused"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["balance"], 70);
    let r = app.get(&bob.token, &path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["balance"], 70);
    let reasons: Vec<&Value> = r.body["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["reason"])
        .collect();
    assert_eq!(reasons, vec![&json!("unused"), &json!("monthly allowance")]);
    let (actor, b, a) = last_audit(app, "credits.taken_back").await;
    assert_eq!(actor, owner_member.as_i64());
    assert_eq!(
        (
            b["balance"].clone(),
            a["balance"].clone(),
            a["reason"].clone()
        ),
        (json!(100), json!(70), json!("unused"))
    );

    // An action that costs credits is refused when the balance is short.
    let account = AccountId(owner.account_id.unwrap());
    let now = leadteam_testkit::Clock::now(&app.clock);
    let mut c = app.db.conn().await.unwrap();
    let member = MemberId(bob_id);
    let paid = leadteam_store::credits::charge(&mut c, account, member, 80, "accepted a lead", now)
        .await
        .unwrap();
    assert!(!paid);
    assert_eq!(
        leadteam_store::credits::balance(&mut c, member)
            .await
            .unwrap(),
        70
    );
    let paid = leadteam_store::credits::charge(&mut c, account, member, 70, "accepted a lead", now)
        .await
        .unwrap();
    assert!(paid);
    let entries = leadteam_store::credits::ledger(&mut c, member, 10)
        .await
        .unwrap();
    assert_eq!(
        (entries[0].delta, entries[0].balance_after, entries[0].actor),
        (-70, 0, Some(member))
    );
    assert!(
        leadteam_store::credits::charge(&mut c, account, member, 0, "free", now)
            .await
            .unwrap()
    );
}

async fn r_b4_a5_only_agents_on_duty_get_leads_when_licences_are_enforced(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let (al, al_id) = join(app, &owner, "Al", "al@acme.test", "Member").await;
    let (bo, bo_id) = join(app, &owner, "Bo", "bo@acme.test", "Member").await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing",
            json!({"licences": 1, "enforce_licences": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "round_robin", "members": [
                {"member_id": al_id, "leads_per_round": 1},
                {"member_id": bo_id, "leads_per_round": 1},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let import = |csv: &'static str| {
        let req = app
            .http
            .post(app.url("/api/v1/clients/import?route=true"))
            .bearer_auth(&owner.token)
            .header("content-type", "text/csv")
            .body(csv);
        async move { TestApp::read(req.send().await.unwrap()).await }
    };
    // Nobody holds a licence: the leads stay unassigned.
    let r = import("name\nL1\nL2\n").await;
    assert_eq!(r.body["unassigned"], 2, "{}", r.text);
    // Al starts work (the one licence): every lead goes to Al, Bo is skipped.
    let r = app.post(&al.token, "/api/v1/me/duty", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = import("name\nL3\nL4\nL5\n").await;
    assert_eq!(
        r.body["assigned"],
        json!([{"member_id": al_id, "clients": 3}]),
        "{}",
        r.text
    );
    // Al stops, Bo takes the licence: the next lead goes to Bo.
    assert_eq!(app.delete(&al.token, "/api/v1/me/duty").await.status, 200);
    let r = app.post(&bo.token, "/api/v1/me/duty", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = import("name\nL6\n").await;
    assert_eq!(
        r.body["assigned"],
        json!([{"member_id": bo_id, "clients": 1}]),
        "{}",
        r.text
    );
}

async fn r_b5_claiming_costs_credits_when_the_plan_says_so(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@acme.test", "Member").await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing",
            json!({"claim_cost_credits": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let account = owner.account_id.unwrap();
    let lead = crate::support::unassigned_client(app, account, "Costly lead").await;
    let claim = format!("/api/v1/clients/{lead}/claim");
    // No credits: refused, naming the credits; nothing written.
    let before = (
        app.count("credit_ledger").await,
        app.count("audit_log").await,
    );
    let r = app.post(&bob.token, &claim, json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.field(), Some("credits"), "{}", r.text);
    assert!(r.text.contains("costs 5 credits"), "{}", r.text);
    assert_eq!(
        (
            app.count("credit_ledger").await,
            app.count("audit_log").await
        ),
        before
    );
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{lead}"))
        .await;
    assert!(c.body["client"]["assignee_id"].is_null(), "{}", c.text);
    // With credits the claim goes through and is paid for in the ledger.
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob_id}/credits"),
            json!({"delta": 12, "reason": "allowance"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app.post(&bob.token, &claim, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get(&bob.token, &format!("/api/v1/members/{bob_id}/credits"))
        .await;
    assert_eq!(r.body["balance"], 7, "{}", r.text);
    assert_eq!(r.body["ledger"][0]["reason"], "claimed a lead");
    assert_eq!(r.body["ledger"][0]["delta"], -5);
}
