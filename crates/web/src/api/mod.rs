//! The JSON API. Each area adds its routes to the one table.

mod account;
mod api_keys;
mod availability;
mod billing;
mod clients;
mod content;
mod groups;
mod hooks;
mod identity;
pub(crate) mod import;
mod leads;
mod members;
mod notifications;
mod reports;
mod roles;
mod routing;
mod routing_explain;
mod service;
mod sources;
mod teams;
mod webhooks;

use crate::registry::Api;

/// Every route of the server, documented.
pub fn routes() -> Api {
    let api = Api::default();
    let api = service::routes(api);
    let api = identity::routes(api);
    let api = members::routes(api);
    let api = account::routes(api);
    let api = api_keys::routes(api);
    let api = clients::routes(api);
    let api = import::routes(api);
    let api = notifications::routes(api);
    let api = sources::routes(api);
    let api = routing::routes(api);
    let api = availability::routes(api);
    let api = routing_explain::routes(api);
    let api = reports::routes(api);
    let api = leads::routes(api);
    let api = webhooks::routes(api);
    let api = hooks::routes(api);
    let api = roles::routes(api);
    let api = billing::routes(api);
    let api = teams::routes(api);
    let api = groups::routes(api);
    let api = content::routes(api);
    // The pages of the UI: served by the same router, not part of the API document.
    api.merge_unlisted(crate::ui::routes())
}

pub(crate) use sources::{
    form_url as form_url_of, secret_url as secret_url_of, webhook_url as webhook_url_of,
};

/// Serialises a timestamp as RFC 3339 (UTC) for the API.
pub(crate) fn rfc3339(t: leadteam_domain::Timestamp) -> String {
    let nanos = i128::from(t.0) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
