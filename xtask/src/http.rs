//! Just enough HTTP/1.0 over `std::net` to invoke functions on loopback (xtask stays free of an HTTP crate).

use std::io::{Read, Write};
use std::net::TcpStream;
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
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<Reply> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let host = authority.split(':').next().unwrap_or_default();
    if !["127.0.0.1", "localhost"].contains(&host) {
        bail!("{url}: the local stack only talks to loopback addresses");
    }
    let mut stream =
        TcpStream::connect(authority).with_context(|| format!("Failed to connect to {url}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head =
        format!("{method} {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(format!("{head}{body}").as_bytes())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("No complete answer from {url} within {timeout:?}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{url} answered something that is not HTTP"))?;
    Ok(Reply {
        status,
        body: body.to_owned(),
    })
}
