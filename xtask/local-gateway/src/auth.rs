//! The Cognito user-pool authorizer as API Gateway runs it for methods without OAuth scopes: RS256 ID tokens
//! only, checked against the pool's JWKS, issuer, app client and expiry. Access tokens are refused: "If you
//! didn't configure any authorization scopes, API Gateway treats the supplied token as an identity token"
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-enable-cognito-user-pool.html>;
//! also <https://repost.aws/knowledge-center/api-gateway-cognito-401-unauthorized>: "If you didn't configure
//! any scopes on the API Gateway method, then make sure that you use a valid ID token"). The API has no scopes
//! (docs/openapi.yaml: `cognito: []`). The claims go on to the function as strings, as API Gateway passes them.

mod keys;

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use self::keys::KeyStore;
pub use self::keys::RefreshPolicy;
use crate::config::CognitoSettings;

/// Why a request was not authorized. Everything but [`AuthError::Jwks`] is the caller's fault: API Gateway's
/// UNAUTHORIZED gateway response (401).
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
    /// 401: `token_use` is not `id`. An access token (`access`) lands here: without OAuth scopes on the method,
    /// API Gateway's Cognito authorizer accepts ID tokens only.
    #[error("token_use {0:?} is not id: only ID tokens are accepted")]
    NotAnIdToken(String),
    /// 401: an ID token issued to another app client (`aud`).
    #[error("the token was issued to another app client")]
    WrongClient,
    /// 500 (AUTHORIZER_CONFIGURATION_ERROR): the JWKS could not be fetched; the token was not judged.
    #[error("could not fetch the JWKS: {0}")]
    Jwks(String),
}

/// Verifies bearer tokens for one user pool and app client.
pub struct Authorizer {
    settings: CognitoSettings,
    keys: KeyStore,
}

impl Authorizer {
    /// An authorizer with the default [`RefreshPolicy`]; it fetches the JWKS on first use.
    pub fn new(settings: CognitoSettings, http: reqwest::Client) -> Self {
        Self::with_policy(settings, http, RefreshPolicy::default())
    }

    /// As [`Authorizer::new`] with another refresh policy (tests).
    pub fn with_policy(
        settings: CognitoSettings,
        http: reqwest::Client,
        policy: RefreshPolicy,
    ) -> Self {
        let keys = KeyStore::new(settings.jwks_url.clone(), http, policy);
        Self { settings, keys }
    }

    /// Fetches the keys now, so a misconfigured JWKS URL fails at start rather than on the first request.
    pub async fn prefetch(&self) -> Result<usize, AuthError> {
        self.keys.fetch_now().await
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
        let key = self.keys.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_aud = false; // checked below, after token_use, for a precise reason
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = decode::<Map<String, Value>>(token, &key, &validation)?.claims;
        self.check_id_token(&claims)?;
        Ok(api_gateway_claims(&claims))
    }

    /// An ID token (`token_use` = `id`) for this app client (`aud`).
    fn check_id_token(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        match claims.get("token_use").and_then(Value::as_str) {
            Some("id") => {}
            other => {
                return Err(AuthError::NotAnIdToken(
                    other.unwrap_or_default().to_owned(),
                ));
            }
        }
        let expected = self.settings.client_id.as_str();
        let matches = match claims.get("aud") {
            Some(Value::String(s)) => s == expected,
            Some(Value::Array(all)) => all.iter().any(|v| v.as_str() == Some(expected)),
            _ => false,
        };
        matches.then_some(()).ok_or(AuthError::WrongClient)
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
