//! The loopback HTTP client xtask invokes functions, the gateway and Cognito with (ureq, plain HTTP only).

use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A response: status code and body.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// `POST url` with a JSON body, waiting up to `timeout` for the whole answer.
pub fn post_json(url: &str, body: &str, timeout: Duration) -> Result<Reply> {
    send(
        "POST",
        url,
        &[("Content-Type", "application/json")],
        body,
        timeout,
    )
}

/// `method url` with extra `headers` and a `body` (loopback only), waiting up to `timeout` for the whole answer.
/// Each call opens its own connection: no keep-alive, so every measured request includes its connect.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<Reply> {
    ensure_loopback(url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let invalid = || format!("{method} {url}: not a valid request");
    // GET may carry no body at all, not even an empty one.
    let response = if body.is_empty() {
        agent.run(request.body(()).with_context(invalid)?)
    } else {
        agent.run(request.body(body.to_owned()).with_context(invalid)?)
    };
    let mut response =
        response.with_context(|| format!("No complete answer from {url} within {timeout:?}"))?;
    Ok(Reply {
        status: response.status().as_u16(),
        body: response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("{url} answered a body that is not UTF-8 text"))?,
    })
}

fn ensure_loopback(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !["127.0.0.1", "localhost"].contains(&host) {
        bail!("{url}: the local stack only talks to loopback addresses");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_allowed() {
        assert!(ensure_loopback("http://127.0.0.1:3000/orders").is_ok());
        assert!(ensure_loopback("http://localhost/").is_ok());
        assert!(ensure_loopback("http://example.com/").is_err());
        assert!(ensure_loopback("http://127.0.0.1.example.com:80/").is_err());
        assert!(ensure_loopback("https://127.0.0.1/").is_err());
    }
}
