//! `leadteam admin ...`: the operator's commands, run against the database
//! (of a running server or not), each written to the audit log as "system".
//! They refuse a database whose schema is not exactly this binary's (newer:
//! run the newer binary; older: `leadteam migrate` first).

use crate::config::Settings;
use anyhow::Context;
use clap::Subcommand;
use leadteam_app::{App, AppConfig, AppError, SystemClock};
use leadteam_store::Db;
use std::io::Read;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Set a user's password, read from standard input (one line), and end
    /// all its sessions.
    ResetPassword {
        /// The user's email.
        email: String,
    },
    /// Turn two-factor authentication off for a user who lost the device
    /// (secret and recovery codes go) and end all its sessions.
    #[command(name = "disable-2fa")]
    Disable2fa {
        /// The user's email.
        email: String,
    },
    /// List the accounts with their owner and member counts.
    Accounts,
    /// Make an active member the owner of an account whose owner is gone;
    /// the former owner becomes an admin.
    TransferOwnership {
        /// The account's id (see `leadteam admin accounts`).
        account: i64,
        /// The email of the member who becomes the owner.
        email: String,
    },
}

fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errs) => anyhow::anyhow!("{errs}"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn run(s: &Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = Db::connect(&s.database_url, Some(2))
        .await
        .context("connecting to the database")?;
    db.check_schema().await.context("checking the database")?;
    let app = App::new(
        db.clone(),
        Arc::new(SystemClock),
        AppConfig {
            data_dir: s.data_dir.clone(),
            ..AppConfig::default()
        },
    );
    let result = match cmd {
        AdminCommand::ResetPassword { email } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the new password from standard input")?;
            let password = input.lines().next().unwrap_or_default();
            let ended = leadteam_admin_reset(&app, &email, password).await?;
            println!("password of {email} set; {ended} session(s) ended");
            Ok(())
        }
        AdminCommand::Disable2fa { email } => {
            let ended = leadteam_app::admin::disable_2fa(&app, &email)
                .await
                .map_err(explain)?;
            println!("two-factor authentication of {email} turned off; {ended} session(s) ended");
            Ok(())
        }
        AdminCommand::Accounts => {
            let list = leadteam_app::admin::accounts(&app).await.map_err(explain)?;
            println!(
                "{:>6}  {:<30}  {:<32}  {:>6}  {:>7}  {:>11}  {:>9}",
                "id", "name", "owner", "active", "invited", "deactivated", "clients"
            );
            for a in list {
                println!(
                    "{:>6}  {:<30}  {:<32}  {:>6}  {:>7}  {:>11}  {:>9}",
                    a.id,
                    a.name,
                    a.owner_email.unwrap_or_else(|| "(none)".into()),
                    a.active,
                    a.invited,
                    a.deactivated,
                    a.clients
                );
            }
            Ok(())
        }
        AdminCommand::TransferOwnership { account, email } => {
            let to = leadteam_app::admin::transfer_ownership(
                &app,
                leadteam_domain::AccountId(account),
                &email,
            )
            .await
            .map_err(explain)?;
            println!("{email} (member {to}) is now the owner of account {account}");
            Ok(())
        }
    };
    db.close().await;
    result
}

async fn leadteam_admin_reset(app: &App, email: &str, password: &str) -> anyhow::Result<u64> {
    leadteam_app::admin::reset_password(app, email, password)
        .await
        .map_err(explain)
}
