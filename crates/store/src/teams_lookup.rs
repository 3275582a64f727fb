//! Team existence checks used by client use cases (teams themselves are
//! managed in their own module).

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, TeamId};

pub async fn count_team(c: &mut Conn, account: AccountId, team: TeamId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE id = $1 AND account_id = $2")
            .bind(team.0)
            .bind(account.0)
            .fetch_one(c)
            .await?,
    )
}
