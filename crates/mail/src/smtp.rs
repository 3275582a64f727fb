//! SMTP with lettre. Configured by one URL:
//! `smtp://user:pass@host:port?tls=none|starttls|tls` or `smtps://...`.
//! Without `tls`, a loopback host gets a plain connection, `smtps://` TLS
//! from the first byte, and any other host STARTTLS (required). Default
//! ports: 465 for TLS, 587 for STARTTLS, 25 for plain.

use crate::MailError;
use crate::transport::{BoxFuture, Outgoing, SendError, Transport};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (loopback relays only).
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// A parsed SMTP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User name and password.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(raw: &str) -> Result<SmtpSettings, MailError> {
        let bad = |why: &str| {
            MailError::Config(format!(
                "invalid SMTP URL ({why}): use smtp://user:pass@host:port?tls=none|starttls|tls or smtps://..."
            ))
        };
        let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut tls = match url.scheme() {
            "smtps" => TlsMode::Tls,
            "smtp" if is_loopback(&host) => TlsMode::None,
            "smtp" => TlsMode::StartTls,
            other => return Err(bad(&format!("scheme {other:?}"))),
        };
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "none") => tls = TlsMode::None,
                ("tls", "starttls") => tls = TlsMode::StartTls,
                ("tls", "tls") => tls = TlsMode::Tls,
                ("tls", other) => return Err(bad(&format!("tls={other}"))),
                (other, _) => return Err(bad(&format!("unknown parameter {other:?}"))),
            }
        }
        let port = url.port().unwrap_or(match tls {
            TlsMode::Tls => 465,
            TlsMode::StartTls => 587,
            TlsMode::None => 25,
        });
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some((
                percent_decode(url.username()).ok_or_else(|| bad("user name"))?,
                percent_decode(url.password().unwrap_or_default())
                    .ok_or_else(|| bad("password"))?,
            ))
        };
        Ok(SmtpSettings {
            host,
            port,
            tls,
            credentials,
        })
    }

    /// `smtp://host:port (tls)`, without credentials.
    pub fn describe(&self) -> String {
        let tls = match self.tls {
            TlsMode::None => "plain",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        };
        let user = match &self.credentials {
            Some((u, _)) => format!("{u}@"),
            None => String::new(),
        };
        format!("smtp://{user}{}:{} ({tls})", self.host, self.port)
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Sends over SMTP, one connection per message.
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    describe: String,
}

impl SmtpTransport {
    /// A transport for `settings`; `timeout` bounds each network step.
    pub fn new(settings: &SmtpSettings, timeout: Duration) -> Result<SmtpTransport, MailError> {
        let tls_params = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| MailError::Config(format!("SMTP TLS for {}: {e}", settings.host)))
        };
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_params()?),
            TlsMode::Tls => Tls::Wrapper(tls_params()?),
        };
        if settings.tls == TlsMode::None
            && settings.credentials.is_some()
            && !is_loopback(&settings.host)
        {
            tracing::warn!(
                host = %settings.host,
                "SMTP credentials are sent without TLS: use tls=starttls or smtps://"
            );
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, pass)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
            describe: settings.describe(),
        })
    }

    async fn deliver(&self, m: &Outgoing) -> Result<(), SendError> {
        self.inner
            .send_raw(&m.envelope, &m.raw)
            .await
            .map(|_| ())
            .map_err(|e| SendError(format!("SMTP {}: {e}", self.describe)))
    }
}

impl Transport for SmtpTransport {
    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(self.deliver(message))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(u: &str) -> SmtpSettings {
        match SmtpSettings::parse(u) {
            Ok(s) => s,
            Err(e) => unreachable!("{u}: {e}"),
        }
    }

    #[test]
    fn loopback_is_plain_others_starttls_smtps_is_tls() {
        let s = parse("smtp://127.0.0.1:2525");
        assert_eq!(
            (s.host.as_str(), s.port, s.tls),
            ("127.0.0.1", 2525, TlsMode::None)
        );
        assert_eq!(s.credentials, None);
        assert_eq!(parse("smtp://localhost").tls, TlsMode::None);
        assert_eq!(parse("smtp://localhost").port, 25);
        let v6 = parse("smtp://[::1]:1025");
        assert_eq!((v6.host.as_str(), v6.tls), ("::1", TlsMode::None));
        let s = parse("smtp://mail.example.com");
        assert_eq!((s.port, s.tls), (587, TlsMode::StartTls));
        let s = parse("smtps://mail.example.com");
        assert_eq!((s.port, s.tls), (465, TlsMode::Tls));
        let s = parse("smtp://mail.example.com:2525?tls=tls");
        assert_eq!((s.port, s.tls), (2525, TlsMode::Tls));
        assert_eq!(parse("smtp://mail.example.com?tls=none").tls, TlsMode::None);
        assert_eq!(
            parse("smtp://localhost?tls=starttls").tls,
            TlsMode::StartTls
        );
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_described() {
        let s = parse("smtp://me%40example.com:p%40ss%3Aw%20rd@mail.example.com:587");
        assert_eq!(
            s.credentials,
            Some(("me@example.com".into(), "p@ss:w rd".into()))
        );
        assert!(!s.describe().contains("p@ss") && !format!("{s:?}").contains("p@ss"));
        assert_eq!(
            s.describe(),
            "smtp://me@example.com@mail.example.com:587 (starttls)"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        for u in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://mail.example.com?tls=maybe",
            "smtp://mail.example.com?tsl=none",
            "smtp://",
        ] {
            assert!(SmtpSettings::parse(u).is_err(), "{u}");
        }
    }

    #[test]
    fn transports_build_for_every_mode() {
        for u in [
            "smtp://127.0.0.1:2525",
            "smtp://u:p@mail.example.com",
            "smtps://mail.example.com",
        ] {
            assert!(
                SmtpTransport::new(&parse(u), Duration::from_secs(1)).is_ok(),
                "{u}"
            );
        }
    }
}
