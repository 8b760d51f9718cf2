//! Test helpers shared by the unit tests: a JWKS endpoint on loopback and Cognito-like tokens signed with the
//! throwaway keys in tests/fixtures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::auth::{Authorizer, RefreshPolicy};
use crate::config::CognitoSettings;

pub const KEY: &str = include_str!("../tests/fixtures/test-signing-key.pem");
pub const OTHER_KEY: &str = include_str!("../tests/fixtures/other-signing-key.pem");
pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
pub const CLIENT: &str = "test-client";
pub const KID: &str = "test-kid";
pub const SUB: &str = "6762b34f-4e26-4a8e-a032-35a1e58e1b1c";

/// A JWKS endpoint on loopback that counts its fetches; its key set, delay and status can be changed.
pub struct JwksServer {
    pub url: String,
    fetches: Arc<AtomicUsize>,
    pub keys: Arc<Mutex<Value>>,
    pub delay: Arc<Mutex<Duration>>,
    pub status: Arc<Mutex<StatusCode>>,
}

impl JwksServer {
    /// Serves the test key under [`KID`].
    pub async fn start() -> Self {
        Self::serving(jwks(&[(KID, KEY)])).await
    }

    pub async fn serving(keys: Value) -> Self {
        let server = Self {
            url: String::new(),
            fetches: Arc::default(),
            keys: Arc::new(Mutex::new(keys)),
            delay: Arc::default(),
            status: Arc::new(Mutex::new(StatusCode::OK)),
        };
        let (count, keys, delay, status) = (
            server.fetches.clone(),
            server.keys.clone(),
            server.delay.clone(),
            server.status.clone(),
        );
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                let body = keys.lock().unwrap().to_string();
                let (delay, status) = (*delay.lock().unwrap(), *status.lock().unwrap());
                async move {
                    tokio::time::sleep(delay).await;
                    (status, body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, ..server }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub fn set_status(&self, status: StatusCode) {
        *self.status.lock().unwrap() = status;
    }

    pub fn settings(&self) -> CognitoSettings {
        CognitoSettings {
            jwks_url: self.url.clone(),
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
        }
    }

    pub fn authorizer(&self, policy: RefreshPolicy) -> Authorizer {
        Authorizer::with_policy(self.settings(), reqwest::Client::new(), policy)
    }
}

/// A JWKS with these `(kid, private key PEM)` pairs' public keys.
pub fn jwks(keys: &[(&str, &str)]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, pem)| {
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            let jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
            let mut jwk = serde_json::to_value(jwk).unwrap();
            jwk["kid"] = json!(kid);
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a Cognito ID token for [`CLIENT`].
pub fn id_claims() -> Value {
    json!({
        "iss": ISSUER, "sub": SUB, "aud": CLIENT, "token_use": "id",
        "iat": now(), "auth_time": now(), "exp": now() + 3600, "email": "demo@example.com",
        "email_verified": true, "cognito:groups": ["admins", "staff"],
    })
}

/// The claims of a Cognito access token for [`CLIENT`]: `client_id` and `scope`, no `aud`.
pub fn access_claims() -> Value {
    json!({
        "iss": ISSUER, "sub": SUB, "client_id": CLIENT, "token_use": "access",
        "scope": "aws.cognito.signin.user.admin", "username": "demo",
        "iat": now(), "auth_time": now(), "exp": now() + 3600,
    })
}

/// An RS256 JWT with these claims, signed by `pem` under `kid`.
pub fn sign(claims: &Value, pem: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    encode(&header, claims, &key).unwrap()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
