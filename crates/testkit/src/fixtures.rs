//! Store-level fixtures: states the API cannot reach yet, written straight
//! through `leadteam_store`. Each one says which API replaces it.

use crate::{PASSWORD, TestApp, User};
use leadteam_app::Clock;
use leadteam_app::auth::random_token;
use leadteam_domain::AccountId;
use leadteam_domain::authz::Permission;
use leadteam_domain::secret::token_hash;
use leadteam_store::{roles, sessions, users};

impl TestApp {
    /// FIXTURE until invitations land (`POST /api/v1/invitations` and
    /// `/accept`): inserts a user `email` (password [`PASSWORD`]), an active
    /// member of `account_id` holding the role named `role_name` (its `agent`
    /// flag as the role says), and a session for it in that account; returns
    /// the signed-in user. Writes no audit row and checks no seat.
    pub async fn insert_member(&self, account_id: i64, email: &str, role_name: &str) -> User {
        let account = AccountId(account_id);
        let now = self.clock.now();
        let hash = leadteam_app::PasswordHasher::default()
            .hash(PASSWORD)
            .await
            .expect("hash fixture password");
        let mut tx = self.db.write().await.expect("begin");
        let role = roles::by_name(&mut tx, account, role_name)
            .await
            .expect("role lookup")
            .unwrap_or_else(|| panic!("no role named {role_name:?} in account {account_id}"));
        let user = users::insert(&mut tx, email, email, &hash, now)
            .await
            .expect("insert fixture user");
        sqlx::query(
            "INSERT INTO members (account_id, user_id, email, name, role_id, status, is_owner, agent, activated_at, created_at) \
             VALUES ($1, $2, $3, $3, $4, 'active', 0, $5, $6, $6)",
        )
        .bind(account.0)
        .bind(user.0)
        .bind(email)
        .bind(role.id.0)
        .bind(i64::from(role.permissions.contains(Permission::Agent)))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .expect("insert fixture member");
        let token = random_token();
        sessions::insert(
            &mut tx,
            sessions::NewSession {
                token_hash: &token_hash(&token),
                user,
                account: Some(account),
                expires_at: now.plus_millis(86_400_000),
                user_agent: None,
                ip: None,
            },
            now,
        )
        .await
        .expect("insert fixture session");
        tx.commit().await.expect("commit fixture");
        User {
            token,
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            user_id: user.0,
            account_id: Some(account_id),
        }
    }
}
