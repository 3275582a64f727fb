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
    // Claims of one client in this process take turns. Once one has
    // landed, the others waiting are answered from what it left (the
    // client as it now is, and its guests for each one's own decision)
    // without reading it again; the conditional update below still decides
    // between processes.
    let turn = app.claims.flight(id);
    let mut outcome = turn.lock().await;
    if let Some(landed) = outcome.as_ref() {
        return Err(lost(&landed.row, &landed.facts_for(&actor), &actor));
    }
    // The client is read on the connection that will write the claim: one
    // connection taken, not two (on PostgreSQL each is a round trip more).
    let mut tx = app.db.write().await?;
    let (current, f) = with_facts(&mut tx, &actor, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    if current.assignee.is_some() {
        if turn.others_wait() {
            *outcome = Landed::read(&turn, &mut tx, actor.account, id).await?.1;
        }
        return Err(lost(&current, &f, &actor));
    }
    crate::auth::check(&actor, &Action::ClaimClient(&f))?;
    // The winner's writes take two round trips: the claim (which gives
    // back the client as it left it, its guests and the plan's claim
    // cost), its event and audit row together.
    let Some(claimed) = clients::claim(&mut tx, actor.account, id, actor.member, now).await? else {
        // Another process was quicker.
        let (now_row, landed) = Landed::read(&turn, &mut tx, actor.account, id).await?;
        if now_row.assignee.is_none() {
            return Err(AppError::conflict(
                None,
                "the client changed meanwhile; try again",
            ));
        }
        *outcome = landed;
        return Err(taken(&now_row, &f, &actor));
    };
    // A plan may make claiming cost credits (B5): refused, and nothing
    // written, when the balance is short.
    let cost = claimed.cost;
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
    let row = claimed.row;
    let landed = turn.others_wait().then(|| Landed {
        row: row.clone(),
        guests: claimed.guests,
    });
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
    *outcome = landed;
    Ok(row)
}

/// The claim found the client assigned: a member who may claim is told so
/// (C2), and by whom only if it may see the client now; anyone else is told
/// nothing, as of a client it does not know.
fn lost(current: &ClientRow, f: &ClientFacts, actor: &Actor) -> AppError {
    let as_unassigned = ClientFacts {
        assignee: None,
        ..f.clone()
    };
    if decide(actor, &Action::ClaimClient(&as_unassigned)).is_ok()
        || decide(actor, &Action::ViewClient(f)).is_ok()
    {
        return taken(current, f, actor);
    }
    AppError::NotFound("client")
}

/// What a claim that landed leaves to the claims of its client still
/// waiting in this process: the client as it now is, and its guests (each
/// claimer's own fact, P7).
pub(crate) struct Landed {
    row: ClientRow,
    guests: Vec<MemberId>,
}

impl Landed {
    /// The client as it now is, and what to leave to the claims waiting on
    /// the turn: its guests are read with it (one statement) only when
    /// others wait; nothing is left when none does.
    async fn read(
        turn: &Turn,
        conn: &mut Conn,
        account: AccountId,
        id: ClientId,
    ) -> Result<(ClientRow, Option<Self>), AppError> {
        if !turn.others_wait() {
            let row = clients::get(conn, account, id, Lock::None).await?;
            return Ok((row.ok_or(AppError::NotFound("client"))?, None));
        }
        let (row, guests) = clients::get_with_guests(conn, account, id)
            .await?
            .ok_or(AppError::NotFound("client"))?;
        let landed = row.assignee.is_some().then(|| Self {
            row: row.clone(),
            guests,
        });
        Ok((row, landed))
    }

    /// The facts of the client as `actor` sees them.
    fn facts_for(&self, actor: &Actor) -> ClientFacts {
        ClientFacts {
            assignee: self.row.assignee,
            team: self.row.team,
            actor_is_guest: self.guests.contains(&actor.member),
        }
    }
}

/// The outcome of the claims of one client, once one landed.
type Flight = std::sync::Arc<tokio::sync::Mutex<Option<Landed>>>;
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

impl Turn {
    /// Whether other claims of this client wait on the turn now (clones
    /// are made under the map's lock; a claim that joins just after this
    /// reads the client itself).
    fn others_wait(&self) -> bool {
        std::sync::Arc::strong_count(&self.flight) > 2
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
