//! What an admin (`integrations.manage`) sets on a lead source beyond its
//! name (I4-I7): the hosted form's settings, the secret URL, Facebook's app
//! secret, verify token and page access token; the delivery log; and the
//! test lead that runs through the real intake path.

pub use leadteam_domain::forms::{FormField, FormSettings};
pub use leadteam_store::deliveries::DeliveryRow;

use crate::App;
use crate::auth::{Caller, random_token};
use crate::error::AppError;
use crate::intake::{Ingested, Lead, ingest};
use crate::routing_admin::SourceRow;
use leadteam_domain::authz::Action;
use leadteam_domain::forms::SourceSettings;
use leadteam_domain::{FieldError, SourceId, Timestamp, ValidationErrors};
use leadteam_store::sources::{self, Integration};
use leadteam_store::{Conn, deliveries, members};
use serde_json::json;

/// RFC 3339 (UTC) of a timestamp.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    let nanos = i128::from(t.0) * 1_000_000;
    time_fmt(nanos)
}

fn time_fmt(nanos: i128) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let millis = (nanos.rem_euclid(1_000_000_000) / 1_000_000) as i64;
    let days = secs.div_euclid(86_400) as i64;
    let rem = secs.rem_euclid(86_400) as i64;
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 as a civil date (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Facebook's secrets as the admin copies them from Meta.
#[derive(Debug, Clone, Default)]
pub struct FacebookSetup {
    /// The Meta app secret (`X-Hub-Signature-256` is computed with it).
    pub app_secret: Option<String>,
    /// The verify token typed into the app's webhook subscription.
    pub verify_token: Option<String>,
    /// The page access token the Graph API is called with.
    pub page_access_token: Option<String>,
}

/// What a change of a source's integration sets; `None` keeps a part.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub form: Option<FormSettings>,
    /// `Some(true)`: issue (or rotate) the secret URL; `Some(false)`: remove it.
    pub secret_url: Option<bool>,
    pub facebook: Option<FacebookSetup>,
}

fn secret_field(field: &str, v: &Option<String>, errs: &mut ValidationErrors) -> Option<String> {
    let v = v.as_deref().map(str::trim)?;
    if v.len() < 8 || v.len() > 500 || v.chars().any(char::is_whitespace) {
        errs.push(FieldError::new(
            field,
            "must be 8 to 500 characters without spaces",
        ));
        return None;
    }
    Some(v.to_owned())
}

/// A setup whose every part was checked.
struct Checked {
    form: Option<FormSettings>,
    app_secret: Option<String>,
    verify: Option<String>,
    page: Option<String>,
    secret_url: Option<bool>,
}

/// Checks `setup` for a source of `kind`, naming every field at fault,
/// without writing anything (a caller that also changes other parts of the
/// source checks first, so that nothing is half-written).
pub fn check_setup(kind: &str, setup: &Setup) -> Result<(), AppError> {
    checked(kind, setup.clone()).map(|_| ())
}

fn checked(kind: &str, setup: Setup) -> Result<Checked, AppError> {
    let mut errs = ValidationErrors::default();
    let form = match setup.form {
        Some(_) if kind != "form" => {
            errs.push(FieldError::new(
                "form",
                "only a source of kind form has a form",
            ));
            None
        }
        Some(f) => match f.check() {
            Ok(f) => Some(f),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        },
        None => None,
    };
    let fb = setup.facebook.unwrap_or_default();
    let app_secret = secret_field("facebook.app_secret", &fb.app_secret, &mut errs);
    let verify = secret_field("facebook.verify_token", &fb.verify_token, &mut errs);
    let page = secret_field(
        "facebook.page_access_token",
        &fb.page_access_token,
        &mut errs,
    );
    if kind != "facebook" && (app_secret.is_some() || verify.is_some() || page.is_some()) {
        errs.push(FieldError::new(
            "facebook",
            "only a Facebook source has Facebook settings",
        ));
    }
    errs.into_result()?;
    Ok(Checked {
        form,
        app_secret,
        verify,
        page,
        secret_url: setup.secret_url,
    })
}

/// What [`apply`] did beyond the source's row.
pub(crate) struct Applied {
    /// The new secret URL token, if one was issued (shown once).
    pub url_token: Option<String>,
    /// A page access token was saved: the lookup of its pages and forms is
    /// queued (issue 17); wake the Graph worker after the commit.
    pub lookup_queued: bool,
}

/// Applies `setup` to a source in the caller's transaction (used at
/// creation too). Saving a page access token queues the Graph API lookup of
/// the pages and lead forms it reaches, so that their names are known
/// before any lead; the lookup runs after the commit and its failure never
/// fails the save.
pub(crate) async fn apply(
    tx: &mut Conn,
    src: &SourceRow,
    setup: Setup,
    now: Timestamp,
) -> Result<Applied, AppError> {
    let Checked {
        form,
        app_secret,
        verify,
        page,
        secret_url,
    } = checked(&src.kind, setup)?;
    let settings = form.map(|f| {
        let mut s = SourceSettings::parse(&src.settings_json);
        s.form = Some(f);
        s.to_json()
    });
    let url_token = match secret_url {
        Some(true) => Some(Some(random_token())),
        Some(false) => Some(None),
        None => None,
    };
    sources::set_integration(
        tx,
        src.id,
        Integration {
            form_key: None,
            url_token: url_token.as_ref().map(|t| t.as_deref()),
            settings_json: settings.as_deref(),
            secret: app_secret.as_deref(),
            verify_token: verify.as_deref(),
            page_token: page.as_deref(),
        },
    )
    .await?;
    let lookup_queued = page.is_some();
    if lookup_queued {
        crate::intake::facebook_lookup::queue(tx, src.id, now).await?;
    }
    Ok(Applied {
        url_token: url_token.flatten(),
        lookup_queued,
    })
}

/// Gives a new `form` source its key and default settings.
pub(crate) async fn new_form(tx: &mut Conn, id: SourceId) -> Result<(), AppError> {
    let key = random_token();
    let settings = SourceSettings {
        form: Some(FormSettings::default()),
    }
    .to_json();
    sources::set_integration(
        tx,
        id,
        Integration {
            form_key: Some(&key[..24]),
            settings_json: Some(&settings),
            ..Integration::default()
        },
    )
    .await?;
    Ok(())
}

/// Changes a source's integration; answers the source and the new secret
/// URL token (shown once).
pub async fn configure(
    app: &App,
    caller: &Caller,
    id: SourceId,
    setup: Setup,
) -> Result<(SourceRow, Option<String>), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    let what = json!({
        "form": setup.form.is_some(),
        "secret_url": setup.secret_url,
        "facebook": setup.facebook.as_ref().map(|f| json!({
            "app_secret": f.app_secret.is_some(),
            "verify_token": f.verify_token.is_some(),
            "page_access_token": f.page_access_token.is_some(),
        })),
    });
    let applied = apply(&mut tx, &before, setup, now).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "lead_source.configured",
        "lead_source",
        id.0,
        None,
        Some(what),
        now,
    )
    .await?;
    let after = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    tx.commit().await?;
    app.sources_changed(actor.account, Some(id));
    if applied.lookup_queued {
        app.events_queued();
    }
    Ok((after, applied.url_token))
}

/// A source of the account, for its page.
pub async fn source(app: &App, caller: &Caller, id: SourceId) -> Result<SourceRow, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    sources::get(&mut c, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))
}

/// The form settings of a source (the defaults for a source without).
pub fn form_settings(src: &SourceRow) -> Option<FormSettings> {
    (src.kind == "form").then(|| {
        SourceSettings::parse(&src.settings_json)
            .form
            .unwrap_or_default()
    })
}

/// The latest deliveries of a source, newest first (I7).
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    id: SourceId,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<DeliveryRow>, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    sources::get(&mut c, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    Ok(deliveries::list(&mut c, id, limit, before).await?)
}

/// Where a test lead went.
#[derive(Debug, Clone)]
pub struct TestLead {
    pub lead: Ingested,
    pub assignee_name: Option<String>,
}

/// Sends a test lead through the real intake path of the source: its
/// switch, routing, alerts and outbound events, and the delivery log.
pub async fn send_test(app: &App, caller: &Caller, id: SourceId) -> Result<TestLead, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let src = {
        let mut c = app.db.conn().await?;
        sources::get(&mut c, actor.account, id)
            .await?
            .ok_or(AppError::NotFound("lead source"))?
    };
    let n = app.now().0;
    let mut lead = Lead {
        name: Some("Test lead".into()),
        email: Some(format!("test-lead-{n}@example.com")),
        ..Lead::default()
    };
    lead.fields.insert("test".into(), "true".into());
    lead.fields.insert("sent by".into(), actor_name(caller));
    let result = ingest(app, &src, lead, None, "test").await.map(|i| vec![i]);
    crate::intake::log::outcome(app, &src, "test", &result).await;
    let lead = result?
        .pop()
        .ok_or_else(|| AppError::Internal("intake gave no answer".into()))?;
    let assignee_name = match lead.assignee {
        Some(m) => {
            let mut c = app.db.conn().await?;
            members::get(&mut c, actor.account, m, leadteam_store::Lock::None)
                .await?
                .map(|r| r.name)
        }
        None => None,
    };
    Ok(TestLead {
        lead,
        assignee_name,
    })
}

fn actor_name(c: &Caller) -> String {
    c.name.clone()
}
