//! Billing (B1-B3) over HTTP: the trial, seats, the pro-rated month checked
//! against a hand computation, the invoice export and plan changes.

use crate::support::{
    accept_mailed, at, billing, footprint, fresh, invite, join, last_audit, line, title, try_invite,
};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(
    r_b1_during_the_trial_any_number_may_be_invited_and_nothing_is_charged,
    r_b3_after_the_trial_inviting_beyond_the_seats_is_refused_until_seats_are_added,
    r_b3_seats_never_go_below_the_members_holding_one_and_removal_keeps_them,
    r_b2_hand_computed_month_active_day_10_deactivated_day_20_reactivated_day_25,
    r_b2_the_invoice_lines_export_as_csv_and_json,
    r_b_plan_changes_are_validated_authorised_and_audited,
);

async fn r_b1_during_the_trial_any_number_may_be_invited_and_nothing_is_charged(app: &TestApp) {
    app.clock.set(at(2026, 3, 3, 10));
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let b = billing(app, &owner).await;
    assert_eq!(b["trial"]["active"], true);
    assert_eq!(b["trial"]["ends_at"], "2026-03-17T10:00:00Z");
    assert_eq!(b["trial"]["first_charged_day"], "2026-03-17");
    assert_eq!(
        (&b["seats"]["purchased"], &b["seats"]["used"]),
        (&json!(5), &json!(1))
    );
    assert_eq!(
        (&b["price_cents"], &b["anchor_day"], &b["currency"]),
        (&json!(1500), &json!(3), &json!("USD"))
    );
    assert_eq!(b["licences"]["total"], 5);
    assert_eq!(b["seats"]["enforced"], false);

    // B1: seven people on five seats, all invited during the trial.
    app.clock.set(at(2026, 3, 5, 9));
    for i in 1..=7 {
        let email = format!("m{i}@acme.test");
        invite(app, &owner, &format!("Member {i}"), &email, "Member").await;
    }
    let r = accept_mailed(app, "m1@acme.test").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let m1 = r.body["member"]["id"].as_i64().unwrap();
    app.clock.set(at(2026, 3, 10, 9));
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{m1}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = billing(app, &owner).await;
    assert_eq!(
        (&b["seats"]["used"], &b["seats"]["free"]),
        (&json!(7), &json!(0))
    );
    // m1 was active 03-05..03-10, inside the trial: listed, nothing charged.
    let l = line(&b, "m1@acme.test").unwrap();
    assert_eq!(
        (&l["active_days"], &l["free_days"], &l["amount_cents"]),
        (&json!(6), &json!(6), &json!(0))
    );
    assert_eq!(l["status"], "deactivated");
    // Invited members are never charged: no line (B2).
    assert!(line(&b, "m2@acme.test").is_none());
    assert_eq!(b["lines"].as_array().unwrap().len(), 2);
    // The owner's cycle 03-03..04-03 (31 days): the 14 trial days are free,
    // the 17 after it cost round(1500*31/31) - round(1500*14/31) = 1500 - 677.
    let o = line(&b, "ann@acme.test").unwrap();
    assert_eq!(
        (&o["active_days"], &o["free_days"], &o["charged_days"]),
        (&json!(31), &json!(14), &json!(17))
    );
    assert_eq!(o["amount_cents"], 823);
    assert_eq!(b["total_cents"], 823);
    assert_eq!(
        b["cycle"],
        json!({"start": "2026-03-03", "end": "2026-04-03", "days": 31})
    );
}

async fn r_b3_after_the_trial_inviting_beyond_the_seats_is_refused_until_seats_are_added(
    app: &TestApp,
) {
    app.clock.set(at(2026, 3, 3, 10));
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    app.clock.set(at(2026, 3, 18, 10));
    let owner = fresh(app, &owner).await;
    assert_eq!(billing(app, &owner).await["trial"]["active"], false);
    let (_, m1) = join(app, &owner, "Member 1", "m1@acme.test", "Member").await;
    for i in 2..=4 {
        invite(app, &owner, "Member", &format!("m{i}@acme.test"), "Member").await;
    }
    // 5 of 5 seats: the owner, one active member, three invitations.
    let before = footprint(app).await;
    let r = try_invite(app, &owner, "Member 5", "m5@acme.test", "Member").await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        title(&r),
        "all 5 seats are in use (5 of 5); add seats under Billing to invite more"
    );
    assert_eq!(footprint(app).await, before, "nothing was written");

    // Adding a seat lets the invitation through.
    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": 6}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["seats"]["purchased"], 6);
    invite(app, &owner, "Member 5", "m5@acme.test", "Member").await;

    // A deactivated member holds no seat; reactivating it needs one again.
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{m1}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    invite(app, &owner, "Member 6", "m6@acme.test", "Member").await;
    let before = footprint(app).await;
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{m1}/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        title(&r),
        "no seat is free (6 of 6 in use); add seats under Billing to reactivate this member"
    );
    assert_eq!(footprint(app).await, before, "nothing was written");
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{m1}"))
        .await;
    assert_eq!(r.body["status"], "deactivated");

    // Two free seats, six invitations at once: exactly two go through.
    let emails: Vec<String> = (0..6).map(|i| format!("r{i}@acme.test")).collect();
    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": 8}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tries = emails
        .iter()
        .map(|e| try_invite(app, &owner, "Racer", e, "Member"));
    let answers = futures::future::join_all(tries).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 409),
        "{statuses:?}"
    );
    assert_eq!(billing(app, &owner).await["seats"]["used"], 8);
}

async fn r_b3_seats_never_go_below_the_members_holding_one_and_removal_keeps_them(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@acme.test", "Member").await;
    invite(app, &owner, "Cat", "cat@acme.test", "Member").await;
    assert_eq!(billing(app, &owner).await["seats"]["used"], 3);

    let before = footprint(app).await;
    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": 2}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        title(&r),
        "cannot reduce to 2 seats: 3 are in use, the owner's included; remove members or cancel invitations first"
    );
    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": 0}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("seats")));
    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": -3}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("seats")));
    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing/seats",
            json!({"seats": "ten"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("seats")));
    // Only billing.manage changes or sees seats.
    let r = app
        .patch(&bob.token, "/api/v1/billing/seats", json!({"seats": 9}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.get(&bob.token, "/api/v1/billing").await.status, 403);
    assert_eq!(footprint(app).await, before, "nothing was written");
    assert_eq!(billing(app, &owner).await["seats"]["purchased"], 5);

    let r = app
        .patch(&owner.token, "/api/v1/billing/seats", json!({"seats": 3}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (actor, b, a) = last_audit(app, "billing.seats_changed").await;
    assert!(actor.is_some());
    assert_eq!(
        (b["seats"].clone(), a["seats"].clone()),
        (json!(5), json!(3))
    );

    // Removing a member frees its seat but does not remove it.
    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{bob_id}"),
            json!({"clients": "delete"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = billing(app, &owner).await;
    assert_eq!(
        (&b["seats"]["purchased"], &b["seats"]["used"]),
        (&json!(3), &json!(2))
    );
    // The removed member keeps its line for the days it was active.
    assert_eq!(line(&b, "bob@acme.test").unwrap()["status"], "removed");
}

async fn r_b2_hand_computed_month_active_day_10_deactivated_day_20_reactivated_day_25(
    app: &TestApp,
) {
    // Signed up on 1 October: cycles run from the 1st; the trial ends on
    // 15 October, so November is charged in full.
    app.clock.set(at(2026, 10, 1, 12));
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing",
            json!({"price_cents": 3000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    app.clock.set(at(2026, 11, 10, 8));
    let owner = fresh(app, &owner).await;
    let (_, bob) = join(app, &owner, "Bob", "bob@acme.test", "Member").await;
    app.clock.set(at(2026, 11, 12, 9));
    invite(app, &owner, "Ivy Invited", "ivy@acme.test", "Member").await;
    app.clock.set(at(2026, 11, 20, 15));
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.clock.set(at(2026, 11, 25, 10));
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob}/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.clock.set(at(2026, 11, 28, 12));
    let b = billing(app, &owner).await;

    // By hand. Cycle 2026-11-01..2026-12-01: n = 30 days, price 3000 cents,
    // so 100 cents a day. Bob is charged for every day he was active at any
    // moment: 10..=20 November (11 days; the 20th, the day of deactivation,
    // counts) and 25..=30 November (6 days) = 17 days.
    //   [day offsets 9, 20):  round(3000*20/30) - round(3000*9/30)  = 2000 - 900  = 1100
    //   [day offsets 24, 30): round(3000*30/30) - round(3000*24/30) = 3000 - 2400 =  600
    // Bob: 1100 + 600 = 1700 = 17 days * 100. The owner, active all month: 3000.
    // Ivy, invited but never active: nothing, and no line.
    let per_day = 3000 / 30;
    let bob_days = (20 - 10 + 1) + (30 - 25 + 1);
    assert_eq!(bob_days, 17);
    assert_eq!(
        b["cycle"],
        json!({"start": "2026-11-01", "end": "2026-12-01", "days": 30})
    );
    let l = line(&b, "bob@acme.test").unwrap();
    assert_eq!(l["member_id"], bob);
    assert_eq!(l["active_days"], bob_days);
    assert_eq!(l["free_days"], 0);
    assert_eq!(l["amount_cents"], 1100 + 600);
    assert_eq!(l["amount_cents"], bob_days * per_day);
    assert_eq!(
        l["periods"],
        json!([
            {"from": "2026-11-10", "through": "2026-11-20"},
            {"from": "2026-11-25", "through": "2026-11-30"}
        ])
    );
    assert_eq!(line(&b, "ann@acme.test").unwrap()["amount_cents"], 3000);
    assert!(
        line(&b, "ivy@acme.test").is_none(),
        "invited: never charged"
    );
    assert_eq!(b["total_cents"], 3000 + 1700);
    assert_eq!(
        b["next_invoice"],
        json!({"date": "2026-12-01", "total_cents": 4700})
    );

    // October, by hand: 31 days, the owner alone; the trial makes 1..14
    // October free, 15..31 (17 days) cost 3000 - round(3000*14/31) = 3000 - 1355.
    let r = app
        .get(&owner.token, "/api/v1/billing?day=2026-10-20")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["cycle"]["days"], 31);
    assert_eq!(r.body["lines"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["total_cents"], 1645);
    let r = app
        .get(&owner.token, "/api/v1/billing?day=2026-13-01")
        .await;
    assert_eq!((r.status, r.field()), (422, Some("day")));
}

async fn r_b2_the_invoice_lines_export_as_csv_and_json(app: &TestApp) {
    app.clock.set(at(2026, 10, 1, 12));
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    app.clock.set(at(2026, 11, 16, 9));
    let owner = fresh(app, &owner).await;
    let tricky = "=HYPERLINK(\"http://evil.test\",\"Bob, Jr\")";
    join(app, &owner, tricky, "bob@acme.test", "Member").await;
    invite(app, &owner, "Ivy", "ivy@acme.test", "Member").await;

    let r = app.get(&owner.token, "/api/v1/billing/invoice.csv").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("invoice-2026-11-01.csv")
    );
    let rows: Vec<&str> = r.text.split("\r\n").collect();
    assert_eq!(
        rows[0],
        "cycle_start,cycle_end,member_id,name,email,status,active_days,free_days,charged_days,cycle_days,periods,price_cents,amount_cents,currency"
    );
    // Owner: 30 of 30 days = 1500. Bob: 16..30 November, 15 days =
    // round(1500*30/30) - round(1500*15/30) = 1500 - 750 = 750.
    assert!(
        rows[1].contains(",ann@acme.test,active,30,0,30,30,2026-11-01..2026-11-30,1500,1500,USD")
    );
    assert!(rows[2].starts_with("2026-11-01,2026-12-01,"), "{}", rows[2]);
    // RFC 4180 quoting, the formula neutralised with a leading quote.
    assert!(
        rows[2].contains(
            ",\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"Bob, Jr\"\")\",bob@acme.test,active,15,0,15,30,2026-11-16..2026-11-30,1500,750,USD"
        ),
        "{}",
        rows[2]
    );
    assert_eq!(rows.len(), 4, "header, two lines, final CRLF: {rows:?}");
    assert_eq!(rows[3], "");
    assert!(!r.text.contains("ivy@acme.test"), "invited: never charged");

    let r = app.get(&owner.token, "/api/v1/billing/invoice.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total_cents"], 2250);
    assert_eq!(r.body["currency"], "USD");
    assert_eq!(r.body["cycle"]["start"], "2026-11-01");
    let lines = r.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["name"], tricky);
    assert_eq!(lines[1]["amount_cents"], 750);
}

async fn r_b_plan_changes_are_validated_authorised_and_audited(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@acme.test").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@acme.test", "Manager").await;
    let before = footprint(app).await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing",
            json!({"price_cents": -1, "anchor_day": 29, "currency": "dollars", "licences": -2}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["price_cents", "anchor_day", "currency", "licences"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let r = app
        .patch(&owner.token, "/api/v1/billing", json!({"seats": 9}))
        .await;
    assert_eq!(r.status, 422, "unknown fields are refused: {}", r.text);
    let r = app
        .patch(&bob.token, "/api/v1/billing", json!({"price_cents": 1}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(footprint(app).await, before, "nothing was written");

    let r = app
        .patch(
            &owner.token,
            "/api/v1/billing",
            json!({"anchor_day": 15, "licences": 7, "enforce_licences": true, "claim_cost_credits": 2, "currency": "eur"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["anchor_day"], 15);
    assert_eq!(r.body["currency"], "EUR");
    assert_eq!(
        r.body["licences"],
        json!({"total": 7, "in_use": 0, "enforced": true})
    );
    assert_eq!(r.body["credit_costs"], json!({"claim": 2, "accept": 0}));
    assert!(r.body["cycle"]["start"].as_str().unwrap().ends_with("-15"));
    let (actor, b, a) = last_audit(app, "billing.plan_updated").await;
    assert!(actor.is_some());
    assert_eq!(
        (b["licences"].clone(), a["licences"].clone()),
        (json!(5), json!(7))
    );
    assert_eq!(
        (b["enforce_licences"].clone(), a["enforce_licences"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(a["currency"], "EUR");
}
