//! The Cognito user-pool authorizer: RS256 ID or access tokens checked against the pool's JWKS, issuer, app
//! client and expiry. The claims go on to the function as strings, the way API Gateway passes them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::config::CognitoSettings;

/// Unknown key ids trigger a JWKS refetch at most this often, so bad tokens cannot hammer the pool.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Why a request was not authorized. Everything but [`AuthError::Jwks`] is the caller's fault (401).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 401: no `Authorization` header, or an empty one.
    #[error("no token in the Authorization header")]
    Missing,
    /// 401: not a JWT, or one without a key id.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// 401: signed with anything but RS256 (`none` and HMAC included).
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    /// 401: signed with a key the user pool does not publish.
    #[error("no key {0:?} in the user pool's JWKS")]
    UnknownKey(String),
    /// 401: bad signature, expired, wrong issuer or missing claims.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// 401: `token_use` is neither `id` nor `access`.
    #[error("token_use {0:?} is neither id nor access")]
    TokenUse(String),
    /// 401: issued to another app client (`aud` of an ID token, `client_id` of an access token).
    #[error("the token was issued to another app client")]
    WrongClient,
    /// 503: the JWKS could not be fetched; the token was not judged.
    #[error("could not fetch the JWKS: {0}")]
    Jwks(String),
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies bearer tokens for one user pool and app client.
pub struct Authorizer {
    settings: CognitoSettings,
    http: reqwest::Client,
    refetch_interval: Duration,
    cache: Mutex<KeyCache>,
}

impl Authorizer {
    /// An authorizer that fetches the JWKS on first use.
    pub fn new(settings: CognitoSettings, http: reqwest::Client) -> Self {
        Self::with_refetch_interval(settings, http, REFETCH_INTERVAL)
    }

    /// As [`Authorizer::new`] with another refetch interval (tests).
    pub fn with_refetch_interval(
        settings: CognitoSettings,
        http: reqwest::Client,
        refetch_interval: Duration,
    ) -> Self {
        Self {
            settings,
            http,
            refetch_interval,
            cache: Mutex::new(KeyCache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
        }
    }

    /// Fetches the keys now, so a misconfigured JWKS URL fails at start rather than on the first request.
    pub async fn prefetch(&self) -> Result<usize, AuthError> {
        let mut cache = self.cache.lock().await;
        self.refresh(&mut cache).await?;
        Ok(cache.keys.len())
    }

    /// Checks the `Authorization` header value (`Bearer <jwt>` or the bare JWT) and returns the claims as
    /// API Gateway puts them in `requestContext.authorizer.claims`.
    pub async fn authorize(&self, header: Option<&str>) -> Result<Map<String, Value>, AuthError> {
        let token = bearer_token(header).ok_or(AuthError::Missing)?;
        let head = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if head.alg != Algorithm::RS256 {
            return Err(AuthError::Algorithm(head.alg));
        }
        let kid = head
            .kid
            .ok_or_else(|| AuthError::Malformed("no kid in the header".into()))?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_aud = false; // access tokens carry client_id instead; checked below
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = decode::<Map<String, Value>>(token, &key, &validation)?.claims;
        self.check_client(&claims)?;
        Ok(api_gateway_claims(&claims))
    }

    fn check_client(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let client = match claims.get("token_use").and_then(Value::as_str) {
            Some("id") => claims.get("aud"),
            Some("access") => claims.get("client_id"),
            other => return Err(AuthError::TokenUse(other.unwrap_or_default().to_owned())),
        };
        let expected = self.settings.client_id.as_str();
        let matches = match client {
            Some(Value::String(s)) => s == expected,
            Some(Value::Array(all)) => all.iter().any(|v| v.as_str() == Some(expected)),
            _ => false,
        };
        matches.then_some(()).ok_or(AuthError::WrongClient)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_refetch = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.refetch_interval);
        if may_refetch {
            self.refresh(&mut cache).await?;
        }
        cache
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()))
    }

    async fn refresh(&self, cache: &mut KeyCache) -> Result<(), AuthError> {
        cache.fetched_at = Some(Instant::now());
        let jwks: JwkSet = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Jwks(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Jwks(e.to_string()))?;
        cache.keys = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                match DecodingKey::from_jwk(jwk) {
                    Ok(key) => Some((kid, key)),
                    Err(e) => {
                        tracing::warn!(kid, error = %e, "skipping a JWKS key the gateway cannot use");
                        None
                    }
                }
            })
            .collect();
        tracing::info!(keys = cache.keys.len(), url = %self.settings.jwks_url, "fetched the user pool's JWKS");
        Ok(())
    }
}

/// `Bearer <t>` (any case) or the bare token, as API Gateway's Cognito authorizer accepts.
fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        None if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// Claims flattened to strings like API Gateway's Cognito authorizer does: numbers as decimal strings, `exp`
/// and `iat` as dates (`Wed Nov 26 01:00:00 UTC 2026`), arrays comma-joined, objects as JSON.
pub fn api_gateway_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter_map(|(name, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                Value::Number(n) if name == "exp" || name == "iat" => n
                    .as_i64()
                    .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
                    .map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string())
                    .unwrap_or_else(|| n.to_string()),
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                other @ (Value::Number(_) | Value::Bool(_) | Value::Object(_)) => other.to_string(),
            };
            Some((name.clone(), Value::String(text)))
        })
        .collect()
}

#[cfg(test)]
mod tests;
