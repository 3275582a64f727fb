//! The permission matrix (P1-P9): every route of the router, for every preset
//! role and for members holding exactly one permission, against a table of
//! what each route needs. A route without a row fails the test, so a new
//! route cannot skip it. Also tenant isolation (X3, T2): every route called
//! with another account's ids answers 404 and changes nothing there.

use super::support::{join, role_id};
use leadteam_domain::authz::{Permission as P, PermissionSet};
use leadteam_testkit::{PASSWORD, TestApp, User, both_engines};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;

mod table;
mod table_time;
use table::table;

both_engines!(
    r_p9_every_route_answers_every_role_as_the_table_says,
    r_x3_every_route_called_with_another_accounts_ids_is_not_found,
);

/// What a route needs of its caller.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Open to anyone (may still refuse bad input or a bad signature).
    Public,
    /// Any active member.
    Any,
    /// One permission.
    Perm(P),
    /// Any of these permissions.
    AnyOf(&'static [P]),
    /// Claiming a client another member holds: a member who may claim is
    /// told who won (409); anyone else learns nothing (404).
    ClaimTaken,
    /// The owner only.
    Owner,
    /// The owner or a holder of account.manage.
    Admin,
    /// A client of another member: visible with clients.view_others, else 404;
    /// then the inner need decides.
    OthersClient(&'static Need),
    /// Only the assignee (or a guest) acts: visible ones get 403, invisible 404.
    AssigneeOnly,
    /// The team-view setting exists for members who may see others or unassigned.
    TeamViewChoice,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Expect {
    Allow,
    Deny,
    Hidden,
}

struct Actor {
    label: String,
    token: String,
    perms: PermissionSet,
    owner: bool,
}

fn expect(need: Need, a: &Actor) -> Expect {
    let has = |p: P| a.owner || a.perms.contains(p);
    let yes = |b: bool| if b { Expect::Allow } else { Expect::Deny };
    match need {
        Need::Public | Need::Any => Expect::Allow,
        Need::Perm(p) => yes(has(p)),
        Need::AnyOf(ps) => yes(ps.iter().any(|p| has(*p))),
        Need::ClaimTaken => {
            if has(P::ClientsViewOthers) || has(P::ClientsViewUnassigned) {
                Expect::Allow
            } else {
                Expect::Hidden
            }
        }
        Need::Owner => yes(a.owner),
        Need::Admin => yes(has(P::AccountManage)),
        Need::OthersClient(inner) => {
            if has(P::ClientsViewOthers) {
                expect(*inner, a)
            } else {
                Expect::Hidden
            }
        }
        Need::AssigneeOnly => {
            if has(P::ClientsViewOthers) {
                Expect::Deny
            } else {
                Expect::Hidden
            }
        }
        Need::TeamViewChoice => yes(has(P::ClientsViewOthers) || has(P::ClientsViewUnassigned)),
    }
}

/// The ids the table's paths and bodies refer to.
struct Fixture {
    ids: HashMap<&'static str, i64>,
}

impl Fixture {
    fn path(&self, template: &str, key: &str) -> String {
        let id = self.ids.get(key).copied().unwrap_or(0);
        template
            .replace("{id}", &id.to_string())
            .replace("{source_id}", &id.to_string())
            .replace(
                "{entry_id}",
                &self.ids.get("time_off").copied().unwrap_or(0).to_string(),
            )
            .replace(
                "{member_id}",
                &self.ids.get("guest").copied().unwrap_or(0).to_string(),
            )
    }
}

/// (method, path, id key, body, need)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<fn(&Fixture) -> Value>,
    Need,
);

async fn setup(app: &TestApp) -> (User, Fixture) {
    let owner = app.signup("Acme", "Ann Owner", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let mut ids: HashMap<&'static str, i64> = HashMap::new();
    ids.insert("account", account);
    let (target_user, target) = join(app, &owner, "Tom Target", "tom@example.com", "Member").await;
    ids.insert("target", target);
    let (_, removable) = join(app, &owner, "Rex Removable", "rex@example.com", "Member").await;
    ids.insert("removable", removable);
    let rid = role_id(app, &owner, "Member").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": "Ivy Invited", "email": "ivy@example.com", "role_id": rid}),
        )
        .await;
    ids.insert("invited", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/roles",
            json!({"name": "Spare", "permissions": ["team.view"]}),
        )
        .await;
    ids.insert("role", r.body["id"].as_i64().unwrap());
    let r = app
        .post(&owner.token, "/api/v1/teams", json!({"name": "Spare team"}))
        .await;
    ids.insert("team", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &target_user.token,
            "/api/v1/clients",
            json!({"name": "Tom's client"}),
        )
        .await;
    ids.insert("client", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{}/guests", ids["client"]),
            json!({"name": "Gail Guest", "email": "gail@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    ids.insert("guest", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/groups",
            json!({"name": "Spare group"}),
        )
        .await;
    ids.insert("group", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/content",
            json!({"kind": "page", "title": "Shared page", "body": "hello", "shared": true}),
        )
        .await;
    ids.insert("content", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Spare source"}),
        )
        .await;
    ids.insert("source", r.body["id"].as_i64().unwrap());
    let r = app.post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Spare rule", "criteria": [{"type": "any_facebook"}], "action": {"type": "unassigned"}})).await;
    ids.insert("rule", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "Spare key", "permissions": ["team.view"]}),
        )
        .await;
    ids.insert("api_key", r.body["id"].as_i64().unwrap());
    ids.insert("notification", 0);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{target}/time-off"),
            json!({"from": "2030-02-01", "to": "2030-02-03"}),
        )
        .await;
    ids.insert("time_off", r.body["id"].as_i64().unwrap());
    let r = app
        .post(
            &owner.token,
            "/api/v1/holidays",
            json!({"day": "2030-05-01", "name": "Labour day"}),
        )
        .await;
    ids.insert("holiday", r.body["id"].as_i64().unwrap());
    // A subscription to a public address (saving one checks DNS, which a
    // test machine may not have): written as the use case would.
    let mut c = app.db.conn().await.unwrap();
    let hook: i64 = sqlx::query_scalar(
        "INSERT INTO webhooks (account_id, url, events, secret, created_at, updated_at) \
         VALUES ($1, 'https://hooks.example.com/x', '[\"lead.created\"]', 'whsec_x', 0, 0) RETURNING id",
    )
    .bind(account)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    drop(c);
    ids.insert("webhook", hook);
    (owner, Fixture { ids })
}

async fn actors(app: &TestApp, owner: &User) -> Vec<Actor> {
    let mut out = vec![Actor {
        label: "Owner".into(),
        token: owner.token.clone(),
        perms: PermissionSet::all(),
        owner: true,
    }];
    for preset in ["Admin", "Manager", "Member", "Restricted"] {
        let email = format!("{}@example.com", preset.to_lowercase());
        let (u, _) = join(app, owner, preset, &email, preset).await;
        let me = app.get(&u.token, "/api/v1/me").await;
        let names: Vec<String> = me.body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        out.push(Actor {
            label: preset.into(),
            token: u.token,
            perms: PermissionSet::parse_names(&names).unwrap(),
            owner: false,
        });
    }
    for p in P::ALL {
        let email = format!("only-{}@example.com", p.name().replace('.', "-"));
        let (u, id) = join(app, owner, p.name(), &email, "Member").await;
        let agent = p == P::Agent;
        let perms: Vec<&str> = if agent { vec![] } else { vec![p.name()] };
        let r = app
            .patch(
                &owner.token,
                &format!("/api/v1/members/{id}"),
                json!({"permissions": perms, "agent": agent}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let me = app.get(&u.token, "/api/v1/me").await;
        assert_eq!(
            me.body["permissions"],
            json!([p.name()]),
            "{} holds exactly one permission",
            p.name()
        );
        out.push(Actor {
            label: format!("only {}", p.name()),
            token: u.token,
            perms: PermissionSet::of(&[p]),
            owner: false,
        });
    }
    out
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    if path.ends_with("/stream") {
        let mut req = app.http.request(m, app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        return (r.status().as_u16(), String::new());
    }
    let r = app.call(m, path, token, body).await;
    (r.status, r.text)
}

async fn r_p9_every_route_answers_every_role_as_the_table_says(app: &TestApp) {
    let (owner, fx) = setup(app).await;
    let table = table();
    // Every route of the router has a row, and every row is a route.
    for spec in leadteam_web::route_specs() {
        assert!(
            table
                .iter()
                .any(|(m, p, ..)| *m == spec.method.as_str() && *p == spec.path),
            "route {} {} has no row in the permission table",
            spec.method,
            spec.path
        );
    }
    let actors = actors(app, &owner).await;
    let mut failures = Vec::new();
    for (method, template, key, body, need) in &table {
        let path = fx.path(template, key);
        let body = body.map(|b| b(&fx));
        // Refusals first: they must change nothing, so the target is still
        // there for everyone after them.
        let mut order: Vec<&Actor> = actors.iter().collect();
        order.sort_by_key(|a| expect(*need, a) == Expect::Allow);
        for a in order {
            let token = if *method == "DELETE" && *template == "/api/v1/sessions/current" {
                app.signin_ok(&actor_email(a, &owner), PASSWORD).await
            } else {
                a.token.clone()
            };
            let want = expect(*need, a);
            let (status, text) = call(app, method, &path, Some(&token), body.clone()).await;
            let ok = match want {
                Expect::Deny => status == 403,
                Expect::Hidden => status == 404,
                Expect::Allow => match need {
                    Need::Public => status != 403 && status < 500,
                    _ => status != 401 && status != 403 && status < 500,
                },
            };
            if !ok {
                failures.push(format!(
                    "{method} {template} as {}: expected {want:?}, got {status} {}",
                    a.label,
                    &text[..text.len().min(160)]
                ));
            }
        }
    }
    // Unauthenticated calls of session routes answer 401.
    for (method, template, key, body, need) in &table {
        if matches!(need, Need::Public) {
            continue;
        }
        let (status, _) = call(
            app,
            method,
            &fx.path(template, key),
            None,
            body.map(|b| b(&fx)),
        )
        .await;
        if status != 401 {
            failures.push(format!(
                "{method} {template} without a credential: expected 401, got {status}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn actor_email(a: &Actor, owner: &User) -> String {
    match a.label.as_str() {
        "Owner" => owner.email.clone(),
        "Admin" | "Manager" | "Member" | "Restricted" => {
            format!("{}@example.com", a.label.to_lowercase())
        }
        other => format!(
            "only-{}@example.com",
            other.trim_start_matches("only ").replace('.', "-")
        ),
    }
}

/// What account B looks like from its owner's side.
async fn snapshot(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/members",
        "/api/v1/roles",
        "/api/v1/teams",
        "/api/v1/clients?view=all",
        "/api/v1/groups",
        "/api/v1/content",
        "/api/v1/lead-sources",
        "/api/v1/assignment-rules",
        "/api/v1/account",
    ] {
        let r = app.get(token, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        out.push(r.body);
    }
    out
}

async fn r_x3_every_route_called_with_another_accounts_ids_is_not_found(app: &TestApp) {
    let (_owner_b, fx) = setup(app).await;
    let owner_b_token = app.signin_ok("ann@example.com", PASSWORD).await;
    let a = app.signup("Other Co", "Olga", "olga@example.com").await;
    let before = snapshot(app, &owner_b_token).await;
    let mut failures = Vec::new();
    for (method, template, key, body, need) in table() {
        if key.is_empty() || matches!(need, Need::Public) {
            continue;
        }
        let path = fx.path(template, key);
        let (status, text) = call(app, method, &path, Some(&a.token), body.map(|b| b(&fx))).await;
        if status != 404 {
            failures.push(format!(
                "{method} {template} with B's id from A: expected 404, got {status} {}",
                &text[..text.len().min(160)]
            ));
        }
    }
    // Bodies that name B's ids are refused too.
    for (path, body) in [
        (
            "/api/v1/clients/bulk-assign",
            json!({"to": fx.ids["target"], "client_ids": [fx.ids["client"]], "team_view": true}),
        ),
        (
            "/api/v1/account/ownership",
            json!({"member_id": fx.ids["target"]}),
        ),
    ] {
        let r = app.post(&a.token, path, body).await;
        if !(r.status == 404 || r.status == 422) {
            failures.push(format!(
                "POST {path} naming B's ids: got {} {}",
                r.status, r.text
            ));
        }
    }
    let r = app
        .put(
            &a.token,
            "/api/v1/me/account",
            json!({"account_id": fx.ids["account"]}),
        )
        .await;
    if r.status != 404 {
        failures.push(format!("switching to B's account: got {}", r.status));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(app, &owner_b_token).await,
        before,
        "B is unchanged"
    );
}
