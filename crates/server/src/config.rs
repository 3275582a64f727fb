//! Settings of the `leadteam` binary, from (first wins) a flag, an
//! environment variable, the configuration file (TOML, `--config` or
//! `LEADTEAM_CONFIG`), or the default. `leadteam config check` prints the
//! effective settings and where each came from, without secrets.

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every setting as a flag (each with its environment variable); none has a
/// clap default, so a missing one falls through to the file, then to the
/// built-in default.
#[derive(Args, Debug, Clone, Default)]
pub struct Flags {
    /// Configuration file (TOML); its keys are the flag names with `_`.
    #[arg(long, env = "LEADTEAM_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH (embedded) or postgres://...
    /// [default: sqlite://./leadteam-data/leadteam.db]
    #[arg(
        long,
        env = "LEADTEAM_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Log filter (e.g. info, leadteam=debug). [default: info]
    #[arg(long, env = "LEADTEAM_LOG", global = true)]
    pub log: Option<String>,
    /// Log as JSON lines. [default: false]
    #[arg(long, env = "LEADTEAM_LOG_JSON", global = true)]
    pub log_json: Option<bool>,
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "LEADTEAM_BIND", global = true)]
    pub bind: Option<SocketAddr>,
    /// Public URL of the server, used in emailed links. [default: http://BIND]
    #[arg(long, env = "LEADTEAM_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// SMTP server for outgoing mail (smtp://user:pass@host:port); without
    /// it, mail is written as .eml files under the data folder.
    #[arg(long, env = "LEADTEAM_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail. [default: leadteam <no-reply@localhost>]
    #[arg(long, env = "LEADTEAM_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Folder for the files the server writes (uploads, mail without SMTP).
    /// [default: the folder of the SQLite file, or ./leadteam-data]
    #[arg(long, env = "LEADTEAM_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Seconds a request's header may take to arrive (X7). [default: 10]
    #[arg(long, env = "LEADTEAM_HEADER_TIMEOUT", global = true)]
    pub header_timeout: Option<u64>,
    /// Seconds a kept-alive connection may idle (X7). [default: 60]
    #[arg(long, env = "LEADTEAM_IDLE_TIMEOUT", global = true)]
    pub idle_timeout: Option<u64>,
    /// Connections open at once, 0 for no cap (X7). [default: 4096]
    #[arg(long, env = "LEADTEAM_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address, 0 for no cap;
    /// raise it behind a reverse proxy (X7). [default: 256]
    #[arg(long, env = "LEADTEAM_MAX_CONNECTIONS_PER_ADDRESS", global = true)]
    pub max_connections_per_address: Option<usize>,
    /// Live streams open at once, 0 for no cap (X7). [default: 1000]
    #[arg(long, env = "LEADTEAM_MAX_STREAMS", global = true)]
    pub max_streams: Option<usize>,
    /// Live streams of one member at once, 0 for no cap (X7). [default: 8]
    #[arg(long, env = "LEADTEAM_MAX_STREAMS_PER_MEMBER", global = true)]
    pub max_streams_per_member: Option<usize>,
    /// Seconds a shutdown waits for requests in flight. [default: 30]
    #[arg(long, env = "LEADTEAM_SHUTDOWN_TIMEOUT", global = true)]
    pub shutdown_timeout: Option<u64>,
    /// Networks outbound webhooks may reach although they are not public
    /// (an intranet), comma separated: 10.0.0.0/8,fd00::/8. [default: none]
    #[arg(long, env = "LEADTEAM_WEBHOOK_ALLOW_NETWORKS", global = true)]
    pub webhook_allow_networks: Option<String>,
    /// The Graph API's base URL, for Facebook lead details.
    /// [default: https://graph.facebook.com/v21.0]
    #[arg(long, env = "LEADTEAM_GRAPH_BASE_URL", global = true)]
    pub graph_base_url: Option<String>,
}

/// The configuration file: the same settings, flat, with `_` in their names.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct File {
    database_url: Option<String>,
    log: Option<String>,
    log_json: Option<bool>,
    bind: Option<SocketAddr>,
    base_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    data_dir: Option<PathBuf>,
    header_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    max_streams: Option<usize>,
    max_streams_per_member: Option<usize>,
    shutdown_timeout: Option<u64>,
    webhook_allow_networks: Option<String>,
    graph_base_url: Option<String>,
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "environment",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// The effective settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_file: Option<PathBuf>,
    pub database_url: String,
    pub log: String,
    pub log_json: bool,
    pub bind: SocketAddr,
    pub base_url: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub data_dir: PathBuf,
    pub limits: leadteam_web::Limits,
    /// Outbound webhooks and the Graph API (I6, I8).
    pub integrations: leadteam_app::IntegrationsConfig,
    /// The allowed networks as written (for `config check`).
    webhook_allow_networks: String,
    /// (setting, source) of each, in the order printed.
    sources: Vec<(&'static str, Source)>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./leadteam-data/leadteam.db";

/// Which of flag, environment, file and default gave a setting.
struct Pick<'a> {
    matches: &'a clap::ArgMatches,
    sources: Vec<(&'static str, Source)>,
}

impl Pick<'_> {
    fn cli_source(&self, id: &str) -> Source {
        match self.matches.value_source(id) {
            Some(clap::parser::ValueSource::EnvVariable) => Source::Env,
            _ => Source::Flag,
        }
    }

    fn one<T>(&mut self, name: &'static str, cli: Option<T>, file: Option<T>) -> Option<T> {
        let (value, source) = match (cli, file) {
            (Some(v), _) => (Some(v), self.cli_source(name)),
            (None, Some(v)) => (Some(v), Source::File),
            (None, None) => (None, Source::Default),
        };
        self.sources.push((name, source));
        value
    }
}

fn read_file(path: &Path) -> anyhow::Result<File> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in the configuration file {}", path.display()))
}

impl Settings {
    /// Resolves every setting from the flags (`matches` tells flag from
    /// environment), the file they name, and the defaults.
    pub fn resolve(flags: &Flags, matches: &clap::ArgMatches) -> anyhow::Result<Settings> {
        let file = match &flags.config {
            Some(p) => read_file(p)?,
            None => File::default(),
        };
        let f = flags.clone();
        let mut p = Pick {
            matches,
            sources: Vec::new(),
        };
        let database_url = p
            .one("database_url", f.database_url, file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let log = p
            .one("log", f.log, file.log)
            .unwrap_or_else(|| "info".to_owned());
        let log_json = p
            .one("log_json", f.log_json, file.log_json)
            .unwrap_or(false);
        let bind = p
            .one("bind", f.bind, file.bind)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let base_url = p.one("base_url", f.base_url, file.base_url);
        let smtp_url = p.one("smtp_url", f.smtp_url, file.smtp_url);
        let mail_from = p
            .one("mail_from", f.mail_from, file.mail_from)
            .unwrap_or_else(|| leadteam_mail::DEFAULT_FROM.to_owned());
        let data_dir = p
            .one("data_dir", f.data_dir, file.data_dir)
            .unwrap_or_else(|| default_data_dir(&database_url));
        let d = leadteam_web::Limits::default();
        let secs = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_secs);
        let limits = leadteam_web::Limits {
            header_timeout: secs(
                p.one("header_timeout", f.header_timeout, file.header_timeout),
                d.header_timeout,
            ),
            idle_timeout: secs(
                p.one("idle_timeout", f.idle_timeout, file.idle_timeout),
                d.idle_timeout,
            ),
            max_connections: p
                .one("max_connections", f.max_connections, file.max_connections)
                .unwrap_or(d.max_connections),
            max_connections_per_address: p
                .one(
                    "max_connections_per_address",
                    f.max_connections_per_address,
                    file.max_connections_per_address,
                )
                .unwrap_or(d.max_connections_per_address),
            max_streams: p
                .one("max_streams", f.max_streams, file.max_streams)
                .unwrap_or(d.max_streams),
            max_streams_per_member: p
                .one(
                    "max_streams_per_member",
                    f.max_streams_per_member,
                    file.max_streams_per_member,
                )
                .unwrap_or(d.max_streams_per_member),
            shutdown_timeout: secs(
                p.one(
                    "shutdown_timeout",
                    f.shutdown_timeout,
                    file.shutdown_timeout,
                ),
                d.shutdown_timeout,
            ),
        };
        let webhook_allow_networks = p
            .one(
                "webhook_allow_networks",
                f.webhook_allow_networks,
                file.webhook_allow_networks,
            )
            .unwrap_or_default();
        let networks = leadteam_domain::net::Network::parse_list(&webhook_allow_networks)
            .map_err(|e| anyhow::anyhow!("webhook_allow_networks: {e}"))?;
        let di = leadteam_app::IntegrationsConfig::default();
        let integrations = leadteam_app::IntegrationsConfig {
            webhook_allow_networks: networks,
            graph_base_url: p
                .one("graph_base_url", f.graph_base_url, file.graph_base_url)
                .unwrap_or_else(|| di.graph_base_url.clone()),
            ..di
        };
        let s = Settings {
            config_file: flags.config.clone(),
            database_url,
            log,
            log_json,
            bind,
            base_url,
            smtp_url,
            mail_from,
            data_dir,
            limits,
            integrations,
            webhook_allow_networks,
            sources: p.sources,
        };
        s.check()?;
        Ok(s)
    }

    /// Refuses settings that cannot work, naming the setting.
    fn check(&self) -> anyhow::Result<()> {
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres:")
            || self.database_url.starts_with("postgresql:"))
        {
            bail!("database_url: use sqlite://PATH or postgres://...");
        }
        leadteam_mail::parse_from(&self.mail_from).context("mail_from")?;
        if let Some(u) = self.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            leadteam_mail::SmtpSettings::parse(u).context("smtp_url")?;
        }
        if let Some(b) = &self.base_url
            && !(b.starts_with("http://") || b.starts_with("https://"))
        {
            bail!("base_url: must start with http:// or https://");
        }
        for (name, v) in [
            ("header_timeout", self.limits.header_timeout),
            ("idle_timeout", self.limits.idle_timeout),
            ("shutdown_timeout", self.limits.shutdown_timeout),
        ] {
            if v.is_zero() {
                bail!("{name}: must be at least 1 second");
            }
        }
        Ok(())
    }

    /// The effective settings, one per line (`name = value  # source`),
    /// secrets replaced by `***`.
    pub fn describe(&self) -> String {
        let l = &self.limits;
        let value = |name: &str| -> String {
            match name {
                "database_url" => redact_url(&self.database_url),
                "log" => self.log.clone(),
                "log_json" => self.log_json.to_string(),
                "bind" => self.bind.to_string(),
                "base_url" => self
                    .base_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", self.bind)),
                "smtp_url" => self.smtp_url.as_deref().map_or_else(
                    || "(none: mail written as .eml files)".to_owned(),
                    redact_url,
                ),
                "mail_from" => self.mail_from.clone(),
                "data_dir" => self.data_dir.display().to_string(),
                "header_timeout" => l.header_timeout.as_secs().to_string(),
                "idle_timeout" => l.idle_timeout.as_secs().to_string(),
                "max_connections" => l.max_connections.to_string(),
                "max_connections_per_address" => l.max_connections_per_address.to_string(),
                "max_streams" => l.max_streams.to_string(),
                "max_streams_per_member" => l.max_streams_per_member.to_string(),
                "shutdown_timeout" => l.shutdown_timeout.as_secs().to_string(),
                "webhook_allow_networks" => self.webhook_allow_networks.clone(),
                "graph_base_url" => self.integrations.graph_base_url.clone(),
                _ => String::new(),
            }
        };
        let mut out = match &self.config_file {
            Some(p) => format!("# configuration file: {}\n", p.display()),
            None => "# no configuration file (--config or LEADTEAM_CONFIG)\n".to_owned(),
        };
        for (name, source) in &self.sources {
            out.push_str(&format!("{name} = {}  # {}\n", value(name), source.label()));
        }
        out
    }
}

/// A URL with its password (and any `password=` query value) replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let secret = k.contains("password") || k.contains("secret");
                    (
                        k.into_owned(),
                        if secret { "***".into() } else { v.into_owned() },
                    )
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => raw.to_owned(),
    }
}

/// The folder of the SQLite file, or `./leadteam-data` for PostgreSQL.
pub fn default_data_dir(database_url: &str) -> PathBuf {
    let fallback = || PathBuf::from("./leadteam-data");
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return fallback();
    };
    let path = rest.trim_start_matches("//");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => fallback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_defaults_to_the_folder_of_the_sqlite_file() {
        let d = |u: &str| default_data_dir(u);
        assert_eq!(
            d("sqlite://./leadteam-data/leadteam.db"),
            PathBuf::from("./leadteam-data")
        );
        assert_eq!(
            d("sqlite:///var/lib/lt/x.db?mode=rwc"),
            PathBuf::from("/var/lib/lt")
        );
        assert_eq!(d("sqlite:x.db"), PathBuf::from("."));
        assert_eq!(d("postgres://u@h/db"), PathBuf::from("./leadteam-data"));
    }

    #[test]
    fn secrets_are_never_printed() {
        assert_eq!(
            redact_url("postgres://lt:s3cret@db:5432/lt"),
            "postgres://lt:***@db:5432/lt"
        );
        assert_eq!(
            redact_url("smtp://mailer:p%40ss@smtp.example.com:587?tls=starttls"),
            "smtp://mailer:***@smtp.example.com:587?tls=starttls"
        );
        assert_eq!(
            redact_url("postgres://db/lt?password=x&sslmode=disable"),
            "postgres://db/lt?password=***&sslmode=disable"
        );
        assert_eq!(redact_url("sqlite://./a.db"), "sqlite://./a.db");
    }
}
