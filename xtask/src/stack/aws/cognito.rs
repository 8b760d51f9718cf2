//! Cognito on moto: the JWKS URL the gateway verifies tokens with, and the demo user's sign-in.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::REGION;
use crate::http;

/// The demo user docker/cognito/init.py creates.
pub const DEMO_USERNAME: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "Demo-Password-1";

/// The JWKS URL moto serves to unsigned requests (see compose.yaml's `x-cognito`).
pub fn jwks_url(endpoint: &str) -> String {
    format!("{endpoint}/cognito-idp_{REGION}/.well-known/jwks.json")
}

/// The issuer of the pool's tokens, as the gateway checks it.
pub fn issuer(user_pool_id: &str) -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}")
}

/// The `InitiateAuth` (`USER_PASSWORD_AUTH`) request body for the demo user.
pub fn sign_in_body(client_id: &str) -> String {
    json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": DEMO_USERNAME, "PASSWORD": DEMO_PASSWORD},
    })
    .to_string()
}

/// The demo user's ID token from Cognito at `endpoint`.
pub fn sign_in(endpoint: &str, client_id: &str, timeout: Duration) -> Result<String> {
    let reply = http::send(
        "POST",
        &format!("{endpoint}/"),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            (
                "X-Amz-Target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            ),
        ],
        &sign_in_body(client_id),
        timeout,
    )?;
    if reply.status != 200 {
        bail!("InitiateAuth answered {}: {}", reply.status, reply.body);
    }
    let answer: Value =
        serde_json::from_str(&reply.body).context("InitiateAuth answered something not JSON")?;
    answer["AuthenticationResult"]["IdToken"]
        .as_str()
        .map(str::to_owned)
        .context("InitiateAuth returned no IdToken")
}
