//! Claims, reassignments and changes of a client; moving or deleting all of a member's.

#[allow(unused_imports)]
use super::*;

/// A claim that landed (C2): the client as the claim left it, its guests
/// (P7: what the claims waiting on it decide with), and the credits the
/// account's plan charges for a claim (B5).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub row: ClientRow,
    pub guests: Vec<MemberId>,
    pub cost: i64,
}

/// Claims an unassigned client for `member`: one conditional update, so of
/// many concurrent claims exactly one wins (C2). It gives back the client as
/// it left it, with its guests and the plan's claim cost: one round trip, in
/// a transaction every claim of the client waits behind. The columns are
/// those `from_row` reads (see `columns!`), as `RETURNING` can give them: the
/// assignee's name by a subquery rather than a join. `None` when the client
/// is not unassigned (or not of the account).
pub async fn claim(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    member: MemberId,
    now: Timestamp,
) -> Result<Option<Claimed>, StoreError> {
    let row = sqlx::query(
        "UPDATE clients SET assignee_id = $1, ever_assigned = 1, assigned_at = $2, updated_at = $2, contacted_at = NULL, waiting_rule = NULL \
         WHERE id = $3 AND account_id = $4 AND assignee_id IS NULL \
         RETURNING id, account_id, name, email, phone, source, source_id, fields_json, status, outcome, team_id, assignee_id, \
         (SELECT m.name FROM members m WHERE m.id = clients.assignee_id) AS assignee_name, ever_assigned, routing_reason, \
         created_at, updated_at, assigned_at, contacted_at, first_contact_at, \
         CASE WHEN waiting_rule IS NULL THEN 0 ELSE 1 END AS waiting, \
         (SELECT string_agg(CAST(g.member_id AS TEXT), ',') FROM client_guests g WHERE g.client_id = clients.id) AS guests, \
         COALESCE((SELECT p.claim_cost_credits FROM billing_plans p WHERE p.account_id = $4), 0) AS cost",
    )
    .bind(member.0)
    .bind(now.0)
    .bind(id.0)
    .bind(account.0)
    .fetch_optional(c)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let guests: Option<String> = r.try_get("guests")?;
    let guests = guests
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.parse::<i64>()
                .map(MemberId)
                .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Claimed {
        row: from_row(&r)?,
        guests,
        cost: r.try_get("cost")?,
    }))
}

/// Assigns a client whose current assignee is `expected` (checked in the
/// same statement, so a concurrent change is never overwritten).
pub async fn reassign(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    expected: Option<MemberId>,
    to: MemberId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE clients SET assignee_id = $1, ever_assigned = 1, assigned_at = $2, updated_at = $2, contacted_at = NULL, waiting_rule = NULL \
         WHERE id = $3 AND account_id = $4 AND ((assignee_id IS NULL AND $5 = -1) OR assignee_id = $5)",
    )
    .bind(to.0)
    .bind(now.0)
    .bind(id.0)
    .bind(account.0)
    .bind(expected.map(|m| m.0).unwrap_or(-1))
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Contact details and state an assignee edits.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub fields: Option<serde_json::Value>,
    pub status: Option<String>,
    pub outcome: Option<Option<String>>,
    pub team: Option<Option<TeamId>>,
}

pub async fn update(
    c: &mut Conn,
    id: ClientId,
    ch: &ClientChanges,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT name, email, phone, fields_json, status, outcome, team_id FROM clients WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *c)
        .await?;
    let name: String = ch.name.clone().map_or_else(|| row.try_get("name"), Ok)?;
    let email: Option<String> = ch.email.clone().map_or_else(|| row.try_get("email"), Ok)?;
    let phone: Option<String> = ch.phone.clone().map_or_else(|| row.try_get("phone"), Ok)?;
    let fields: String = match &ch.fields {
        Some(f) => f.to_string(),
        None => row.try_get("fields_json")?,
    };
    let status: String = ch
        .status
        .clone()
        .map_or_else(|| row.try_get("status"), Ok)?;
    let outcome: Option<String> = ch
        .outcome
        .clone()
        .map_or_else(|| row.try_get("outcome"), Ok)?;
    let team: Option<i64> = match ch.team {
        Some(t) => t.map(|t| t.0),
        None => row.try_get("team_id")?,
    };
    sqlx::query(
        "UPDATE clients SET name = $1, email = $2, phone = $3, fields_json = $4, status = $5, outcome = $6, team_id = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(name)
    .bind(email)
    .bind(phone)
    .bind(fields)
    .bind(status)
    .bind(outcome)
    .bind(team)
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: ClientId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Moves every client of `from` to `to` (member removal, M7); returns the ids.
pub async fn move_all(
    c: &mut Conn,
    account: AccountId,
    from: MemberId,
    to: MemberId,
    now: Timestamp,
) -> Result<Vec<ClientId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE clients SET assignee_id = $1, assigned_at = $2, updated_at = $2, contacted_at = NULL, waiting_rule = NULL \
         WHERE account_id = $3 AND assignee_id = $4 RETURNING id",
    )
    .bind(to.0)
    .bind(now.0)
    .bind(account.0)
    .bind(from.0)
    .fetch_all(c)
    .await?;
    Ok(ids.into_iter().map(ClientId).collect())
}

/// Deletes every client of a member (member removal with "delete", M7).
pub async fn delete_all_of(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
) -> Result<u64, StoreError> {
    let n = sqlx::query("DELETE FROM clients WHERE account_id = $1 AND assignee_id = $2")
        .bind(account.0)
        .bind(member.0)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n)
}

/// Ids of every client currently assigned to `member`, or unassigned when None.
pub async fn ids_of(
    c: &mut Conn,
    account: AccountId,
    member: Option<MemberId>,
) -> Result<Vec<ClientId>, StoreError> {
    let ids: Vec<i64> =
        match member {
            Some(m) => {
                sqlx::query_scalar(
                    "SELECT id FROM clients WHERE account_id = $1 AND assignee_id = $2 ORDER BY id",
                )
                .bind(account.0)
                .bind(m.0)
                .fetch_all(c)
                .await?
            }
            None => sqlx::query_scalar(
                "SELECT id FROM clients WHERE account_id = $1 AND assignee_id IS NULL ORDER BY id",
            )
            .bind(account.0)
            .fetch_all(c)
            .await?,
        };
    Ok(ids.into_iter().map(ClientId).collect())
}
