//! How Keel reaches its mail server. `KEEL_SMTP` is either `host:port` (plain SMTP to a
//! local relay) or a URL for a real provider:
//! - `smtps://user:password@host:465`: TLS from the first byte;
//! - `smtp://user:password@host:587?tls=required`: STARTTLS, and no mail without it
//!   (`tls=opportunistic` uses it when offered, `tls=none` never); with credentials and no
//!   `tls=`, TLS is required, so a password never crosses the network in clear.
//!
//! Servers are verified against the public roots; `KEEL_SMTP_CA` adds a private CA's
//! certificate (PEM) for an internal relay.

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;

/// How long one SMTP conversation may take.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections kept open to the server: one per sender, closed after a few idle seconds so
/// a server with few connection slots is not held between sweeps.
fn pool() -> PoolConfig {
    PoolConfig::new()
        .max_size(super::SENDERS as u32)
        .idle_timeout(std::time::Duration::from_secs(5))
}

/// The transport `server` describes; `ca`: a private CA certificate (PEM) to trust too.
pub fn build(
    server: &str,
    ca: Option<&[u8]>,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    if !server.contains("://") {
        let (host, port) = match server.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse()
                    .map_err(|_| anyhow::anyhow!("KEEL_SMTP: '{p}' is not a port"))?,
            ),
            None => (server, 25),
        };
        return Ok(
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .timeout(Some(TIMEOUT))
                .pool_config(pool())
                .build(),
        );
    }
    let url = url::Url::parse(server).map_err(|e| anyhow::anyhow!("KEEL_SMTP: not a URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("KEEL_SMTP: the URL names no host"))?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let credentials = (!url.username().is_empty()).then(|| {
        Credentials::new(
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        )
    });
    let tls_param = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let mut params = TlsParameters::builder(host.to_owned());
    if let Some(pem) = ca {
        params = params.add_root_certificate(
            Certificate::from_pem(pem).map_err(|e| anyhow::anyhow!("KEEL_SMTP_CA: {e}"))?,
        );
    }
    let params = params
        .build_rustls()
        .map_err(|e| anyhow::anyhow!("KEEL_SMTP: TLS: {e}"))?;
    let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
        ("smtps", _) => (Tls::Wrapper(params), 465),
        ("smtp", Some("required")) => (Tls::Required(params), 587),
        ("smtp", Some("opportunistic")) => (Tls::Opportunistic(params), 587),
        ("smtp", Some("none")) => (Tls::None, 25),
        ("smtp", None) if credentials.is_some() => (Tls::Required(params), 587),
        ("smtp", None) => (Tls::Opportunistic(params), 25),
        ("smtp", Some(other)) => {
            anyhow::bail!("KEEL_SMTP: tls={other}: use required, opportunistic or none")
        }
        (other, _) => anyhow::bail!("KEEL_SMTP: scheme '{other}': use smtp or smtps"),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(TIMEOUT))
        .pool_config(pool());
    if let Some(c) = credentials {
        builder = builder.credentials(c);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pooled transport starts its idle-connection reaper, so it is built in a runtime.
    #[tokio::test]
    async fn urls_say_what_they_mean_and_bad_ones_say_why() {
        for ok in [
            "127.0.0.1:2525",
            "smtps://user:p%40ss@mail.example.com",
            "smtp://user:pass@mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
        ] {
            assert!(build(ok, None).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("relay:port", "is not a port"),
            ("http://mail.example.com", "scheme 'http'"),
            ("smtp://mail.example.com?tls=maybe", "tls=maybe"),
            ("smtp://user@/x", "empty host"),
        ] {
            let err = build(bad, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
