//! Claiming an unassigned client (C2): one winner, the others told who won.

#[allow(unused_imports)]
use super::*;
use leadteam_store::Script;

/// Claims an unassigned client (C2): one conditional update; of concurrent
/// claims one wins and the others get a conflict naming the winner.
pub async fn claim(app: &App, caller: &Caller, id: ClientId) -> Result<ClientRow, AppError> {
    let claimed = claim_turn(app, caller, id).await;
    match &claimed {
        Ok(row) => {
            app.metrics.claim(true);
            app.metrics.first_assigned(row.created_at, app.now());
        }
        Err(e) if is_taken(e) => app.metrics.claim(false),
        Err(_) => {}
    }
    claimed
}

/// The words of [`taken`]: the claim lost to another.
const TAKEN: &str = "already claimed: ";

fn is_taken(e: &AppError) -> bool {
    matches!(e, AppError::Conflict { message, .. } if message.starts_with(TAKEN))
}

async fn claim_turn(app: &App, caller: &Caller, id: ClientId) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut c = app.db.conn().await?;
    let (current, f) = with_facts(&mut c, &actor, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    drop(c);
    if current.assignee.is_some() {
        // Someone was quicker: a member who may claim is told so (C2), and
        // by whom only if it may see the client now; anyone else is told
        // nothing.
        let as_unassigned = ClientFacts {
            assignee: None,
            ..f.clone()
        };
        if decide(&actor, &Action::ClaimClient(&as_unassigned)).is_ok()
            || decide(&actor, &Action::ViewClient(&f)).is_ok()
        {
            return Err(taken(&current, &f, &actor));
        }
        return Err(AppError::NotFound("client"));
    }
    crate::auth::check(&actor, &Action::ClaimClient(&f))?;
    // Claims of one client in this process take turns: once one has won,
    // the others waiting learn it without writing (the conditional update
    // below still decides between processes).
    let flight = app.claims.flight(id);
    let mut outcome = flight.lock().await;
    if let Some(won) = outcome.as_ref()
        && won.assignee.is_some()
    {
        return Err(taken(won, &f, &actor));
    }
    let mut tx = app.db.write().await?;
    // The winner's writes take three round trips: the claim (which reads
    // the plan's claim cost too), its event and audit row together, the
    // client as it now is.
    let Some(cost) = clients::claim(&mut tx, actor.account, id, actor.member, now).await? else {
        let now_row = clients::get(&mut tx, actor.account, id, Lock::None)
            .await?
            .ok_or(AppError::NotFound("client"))?;
        drop(tx);
        let err = match now_row.assignee {
            Some(_) => taken(&now_row, &f, &actor),
            None => AppError::conflict(None, "the client changed meanwhile; try again"),
        };
        if now_row.assignee.is_some() {
            *outcome = Some(now_row);
        }
        return Err(err);
    };
    // A plan may make claiming cost credits (B5): refused, and nothing
    // written, when the balance is short.
    if !leadteam_store::credits::charge(
        &mut tx,
        actor.account,
        actor.member,
        cost,
        "claimed a lead",
        now,
    )
    .await?
    {
        drop(tx);
        return Err(AppError::conflict(
            Some("credits"),
            format!(
                "claiming a lead costs {cost} credits and your balance is short; ask an admin for credits"
            ),
        ));
    }
    let mut script = Script::new(&tx);
    clients::push_event(
        &mut script,
        NewEvent {
            account: actor.account,
            client: id,
            kind: "claimed",
            actor: Some(actor.member),
            body: None,
            data: None,
        },
        now,
    );
    crate::trail::record_into(
        &mut script,
        &actor,
        "client.claimed",
        "client",
        id.0,
        Some(json!({"assignee": null})),
        Some(json!({"assignee": actor.member.0})),
        now,
    );
    script.run(&mut tx).await?;
    let row = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    crate::webhooks::emit(
        app,
        &mut tx,
        actor.account,
        "client.claimed",
        json!({"client_id": id.0, "assignee_id": actor.member.0}),
        now,
    )
    .await?;
    tx.commit().await?;
    app.events_queued();
    *outcome = Some(row.clone());
    Ok(row)
}

/// The outcome of the claims of one client, once one landed.
type Flight = std::sync::Arc<tokio::sync::Mutex<Option<ClientRow>>>;
type FlightMap = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<ClientId, Flight>>>;

/// Claims in flight in this process, one turn per client (see [`claim`]).
/// An entry lives while a claim of its client is running or waiting, and
/// goes with the last one, whatever became of it (won, lost, refused,
/// failed): the map holds only the clients being claimed right now.
#[derive(Clone, Default)]
pub struct ClaimFlights {
    inner: FlightMap,
}

/// A claim's place in the turn of its client; leaving drops the entry when
/// nobody else waits.
struct Turn {
    map: FlightMap,
    id: ClientId,
    flight: Flight,
}

impl std::ops::Deref for Turn {
    type Target = Flight;
    fn deref(&self) -> &Flight {
        &self.flight
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Clones are only made under this lock: two references (the map's
        // and this turn's) mean nobody else waits on this client.
        if map
            .get(&self.id)
            .is_some_and(|f| std::sync::Arc::strong_count(f) <= 2)
        {
            map.remove(&self.id);
        }
    }
}

impl ClaimFlights {
    /// The turn of claims of `id` (shared by every claim waiting on it).
    fn flight(&self, id: ClientId) -> Turn {
        let mut map = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Turn {
            map: std::sync::Arc::clone(&self.inner),
            id,
            flight: map.entry(id).or_default().clone(),
        }
    }

    /// How many clients have claims in flight (for tests and metrics).
    pub fn in_flight(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// The claim lost: `c` as it is now, `f` its facts as the claim found it.
/// The winner is named only to a caller who may see the client as it is
/// now: claiming is no way to learn who holds a client one may not see.
fn taken(c: &ClientRow, f: &ClientFacts, actor: &Actor) -> AppError {
    let now = ClientFacts {
        assignee: c.assignee,
        ..f.clone()
    };
    let who = match c.assignee {
        Some(owner) if owner == actor.member => "you".to_owned(),
        Some(owner) if decide(actor, &Action::ViewClient(&now)).is_ok() => c
            .assignee_name
            .clone()
            .unwrap_or_else(|| format!("member {owner}")),
        _ => return AppError::conflict(None, format!("{TAKEN}another member was quicker")),
    };
    AppError::conflict(None, format!("{TAKEN}this client is assigned to {who}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_leave_nothing_behind_whatever_became_of_the_claim() {
        let flights = ClaimFlights::default();
        let a = flights.flight(ClientId(1));
        let b = flights.flight(ClientId(1));
        let c = flights.flight(ClientId(2));
        assert_eq!(flights.in_flight(), 2);
        drop(a);
        assert_eq!(flights.in_flight(), 2, "b still waits on client 1");
        drop(b);
        drop(c);
        assert_eq!(flights.in_flight(), 0);
    }
}
