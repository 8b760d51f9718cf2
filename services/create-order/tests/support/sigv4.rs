//! Checks a received request's SigV4 `Authorization` header the way the service does: recompute the signature
//! with `aws-sigv4` over the request as received (method, path, the signed headers, the body) with the same
//! credentials and the request's own `x-amz-date`, and compare. Independent of the code under test.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::{ACCESS_KEY, REGION, Received, SECRET_KEY, SESSION_TOKEN};

/// Headers the signature must cover.
const MUST_SIGN: [&str; 4] = ["content-type", "host", "x-amz-date", "x-amz-security-token"];

/// `Ok` when `request` carries a valid SigV4 signature for service `xray` in [`REGION`] by [`ACCESS_KEY`],
/// made at most 5 minutes ago, addressed to `host`.
pub fn verify(request: &Received, host: &str) -> Result<(), String> {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("no {name} header"))
    };
    let authorization = header("authorization")?;
    let fields: HashMap<&str, &str> = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?
        .split(", ")
        .filter_map(|f| f.split_once('='))
        .collect();
    let field = |name: &str| fields.get(name).copied().ok_or(format!("no {name}"));
    let amz_date = header("x-amz-date")?;
    let scope: Vec<&str> = field("Credential")?.split('/').collect();
    let expected_scope = [
        ACCESS_KEY,
        &amz_date[..8.min(amz_date.len())],
        REGION,
        "xray",
        "aws4_request",
    ];
    if scope != expected_scope {
        return Err(format!(
            "credential scope {scope:?}, expected {expected_scope:?}"
        ));
    }
    let signed: Vec<&str> = field("SignedHeaders")?.split(';').collect();
    if let Some(missing) = MUST_SIGN.iter().find(|h| !signed.contains(h)) {
        return Err(format!("{missing} is not signed: {signed:?}"));
    }
    if header("x-amz-security-token")? != SESSION_TOKEN {
        return Err("x-amz-security-token is not the session token".into());
    }
    if header("host")? != host {
        return Err(format!("host {} is not {host}", header("host")?));
    }
    let time = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|e| format!("x-amz-date {amz_date}: {e}"))?
        .and_utc();
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(time.timestamp() as u64);
    let age = SystemTime::now().duration_since(time).unwrap_or_default();
    if age > Duration::from_secs(300) {
        return Err(format!("signed {age:?} ago"));
    }

    // The signer adds x-amz-date and the token itself; every other signed header goes in as received.
    let mut headers = Vec::new();
    for name in signed
        .iter()
        .filter(|h| !["x-amz-date", "x-amz-security-token"].contains(h))
    {
        headers.push((*name, header(name)?));
    }
    let identity = Credentials::new(
        ACCESS_KEY,
        SECRET_KEY,
        Some(SESSION_TOKEN.to_owned()),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("xray")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri = format!("http://{host}{}", request.path);
    let signable = SignableRequest::new(
        &request.method,
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(&request.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    if signature != field("Signature")? {
        return Err(format!(
            "signature {} does not match the recomputed {signature}",
            field("Signature")?
        ));
    }
    let recomputed = instructions
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.to_owned());
    if recomputed.as_deref() != Some(authorization) {
        return Err(format!("authorization differs: recomputed {recomputed:?}"));
    }
    Ok(())
}
