//! Where a webhook may go: an http or https URL whose host resolves only to
//! public addresses (or to networks the operator allowed).

use crate::App;
use leadteam_domain::net::check_target;
use std::net::SocketAddr;

/// A checked target: the URL and the addresses its host resolved to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// Parses the URL and resolves its host now; refuses what may not be reached.
pub async fn resolve(app: &App, raw: &str) -> Result<Target, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("must start with https:// or http://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    let host = url
        .host_str()
        .ok_or("must name a host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("its host {host} does not resolve ({e})"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("its host {host} does not resolve"));
    }
    let allowed = &app.config.integrations.webhook_allow_networks;
    for a in &addrs {
        check_target(a.ip(), allowed)?;
    }
    Ok(Target { url, host, addrs })
}

/// Checks a URL a person saves; answers it as it will be stored.
pub async fn check_url(app: &App, raw: &str) -> Result<String, String> {
    Ok(resolve(app, raw).await?.url.to_string())
}
