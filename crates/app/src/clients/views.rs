//! The team-view setting, the team overview (C8) and the CSV export (I2).

#[allow(unused_imports)]
use super::*;

/// The kinds a member may choose for its lists (C8); None when it sees only
/// its own clients (no setting then).
pub fn team_view_choices(scope: &ClientScope) -> Option<Vec<&'static str>> {
    let mut v = vec!["mine"];
    if scope.others != OthersScope::None {
        v.push("others");
    }
    if scope.unassigned {
        v.push("unassigned");
    }
    if v.len() == 1 { None } else { Some(v) }
}

/// The team-view setting (C8): current kinds and the choices.
pub async fn team_view(
    app: &App,
    caller: &Caller,
) -> Result<(Vec<String>, Vec<&'static str>), AppError> {
    let actor = caller.actor()?.clone();
    crate::auth::check(&actor, &Action::CreateClient)?;
    let choices = team_view_choices(&client_scope(&actor)).unwrap_or_else(|| vec!["mine"]);
    let mut c = app.db.conn().await?;
    let current = clients::team_view(&mut c, actor.member)
        .await?
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|| choices.iter().map(|s| (*s).to_owned()).collect());
    Ok((current, choices))
}

pub async fn set_team_view(
    app: &App,
    caller: &Caller,
    kinds: &[String],
) -> Result<Vec<String>, AppError> {
    let actor = caller.actor()?.clone();
    crate::auth::check(&actor, &Action::CreateClient)?;
    let Some(choices) = team_view_choices(&client_scope(&actor)) else {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::Missing(
            leadteam_domain::authz::Permission::ClientsViewUnassigned,
        )));
    };
    if kinds.is_empty() {
        return Err(AppError::field("kinds", "choose at least one of the kinds"));
    }
    let mut chosen: Vec<&str> = Vec::new();
    for k in kinds {
        match choices.iter().find(|c| **c == k.as_str()) {
            Some(c) if !chosen.contains(c) => chosen.push(c),
            Some(_) => {}
            None => {
                return Err(AppError::field(
                    "kinds",
                    format!("{k:?} is not one of {}", choices.join(", ")),
                ));
            }
        }
    }
    let mut tx = app.db.write().await?;
    clients::set_team_view(&mut tx, actor.member, &chosen.join(",")).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(chosen.into_iter().map(str::to_owned).collect())
}

/// The team tab (C8): counts per member and unassigned, and outcomes (C9),
/// within the caller's scope; it ignores the team-view setting.
#[derive(Debug, Clone)]
pub struct Overview {
    pub members: Vec<(members::MemberRow, i64)>,
    pub unassigned: Option<i64>,
    pub outcomes: Vec<(String, i64)>,
}

pub async fn overview(app: &App, caller: &Caller) -> Result<Overview, AppError> {
    let actor = caller.may(&Action::ViewTeamOverview)?.clone();
    let scope = client_scope(&actor);
    let mut tx = app.db.read().await?;
    let counts = clients::counts_by_assignee(&mut tx, actor.account, &scope).await?;
    let all = members::list(&mut tx, actor.account, None).await?;
    let outcomes = clients::counts_by_outcome(&mut tx, actor.account, &scope).await?;
    let count_of = |m: Option<MemberId>| {
        counts
            .iter()
            .find(|(a, _)| *a == m)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let show_member = |m: &members::MemberRow| match &scope.others {
        OthersScope::All => true,
        OthersScope::Teams(ts) => {
            m.id == actor.member || m.teams.iter().any(|(t, _)| ts.contains(t))
        }
        OthersScope::None => m.id == actor.member,
    };
    let members = all
        .into_iter()
        .filter(|m| m.status != MemberStatus::Invited && show_member(m))
        .map(|m| {
            let n = count_of(Some(m.id));
            (m, n)
        })
        .collect();
    Ok(Overview {
        members,
        unassigned: scope.unassigned.then(|| count_of(None)),
        outcomes,
    })
}

/// CSV of every client the caller may see (I2): RFC 4180 quoting, and cells
/// that a spreadsheet would run as a formula are neutralised.
pub async fn export_csv(app: &App, caller: &Caller) -> Result<String, AppError> {
    let actor = caller.may(&Action::ExportClients)?.clone();
    let rows = all_visible(app, &actor).await?;
    // Times in the reader's zone (X6), named in the header.
    let zone = caller.time_zone.as_str();
    let mut out = format!(
        "id,name,email,phone,source,status,outcome,assignee,team_id,{},fields\r\n",
        csv_cell(&format!("created_at ({zone})"))
    );
    for r in rows {
        let cells = [
            r.id.0.to_string(),
            r.name,
            r.email.unwrap_or_default(),
            r.phone.unwrap_or_default(),
            r.source,
            r.status,
            r.outcome.unwrap_or_default(),
            r.assignee_name.unwrap_or_default(),
            r.team.map(|t| t.0.to_string()).unwrap_or_default(),
            leadteam_domain::availability::local_datetime(r.created_at, zone),
            r.fields.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// One CSV cell: a leading = + - @ tab or CR gets a `'` so spreadsheets show
/// it as text; quotes, commas and line breaks are quoted (RFC 4180).
pub fn csv_cell(raw: &str) -> String {
    let mut s = raw.to_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-3"), "'-3");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            csv_cell("=cmd|' /C calc'!A0,x"),
            "\"'=cmd|' /C calc'!A0,x\""
        );
    }
}
