#![allow(dead_code)] // shared by the e2e and traces test binaries; each uses a part
//! The native local stack the end-to-end tests run against, as `cargo xtask test` describes it in `E2E_*`
//! variables, and the tokens they need: a real sign-in against moto, and forgeries signed with moto's own
//! (public) key or another one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// Where the stack is.
pub struct Stack {
    pub gateway: String,
    /// Cognito (moto): sign-in.
    pub cognito_endpoint: String,
    /// SQS and Secrets Manager.
    pub sqs_endpoint: String,
    pub client_id: String,
    pub issuer: String,
    pub database_url: String,
    pub username: String,
    pub password: String,
    pub signing_key: String,
    pub signing_kid: String,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. The end-to-end tests need the native local stack (PostgreSQL, moto, the functions \
             under cargo lambda watch, the local gateway): run them with `cargo xtask test`, which starts it and \
             sets the E2E_* variables."
        )
    })
}

/// The stack's coordinates; panics with instructions when the tests were not started by `cargo xtask test`.
pub fn stack() -> Stack {
    Stack {
        gateway: var("E2E_GATEWAY_URL"),
        cognito_endpoint: var("E2E_COGNITO_ENDPOINT"),
        sqs_endpoint: var("E2E_SQS_ENDPOINT"),
        client_id: var("E2E_CLIENT_ID"),
        issuer: var("E2E_COGNITO_ISSUER"),
        database_url: var("E2E_DATABASE_URL"),
        username: var("E2E_DEMO_USERNAME"),
        password: var("E2E_DEMO_PASSWORD"),
        signing_key: var("E2E_COGNITO_SIGNING_KEY"),
        signing_kid: var("E2E_COGNITO_SIGNING_KID"),
    }
}

/// The demo user's tokens from Cognito (moto): `InitiateAuth` with `USER_PASSWORD_AUTH`.
pub struct Tokens {
    /// The `IdToken`: the one the API takes (API Gateway's Cognito authorizer without OAuth scopes).
    pub id: String,
    /// The `AccessToken`: refused by the API, kept to prove it.
    pub access: String,
}

impl Stack {
    pub async fn sign_in(&self) -> Tokens {
        let response = reqwest::Client::new()
            .post(format!("{}/", self.cognito_endpoint))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            )
            .json(&json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": self.client_id,
                "AuthParameters": {"USERNAME": self.username, "PASSWORD": self.password},
            }))
            .send()
            .await
            .expect("moto answers InitiateAuth");
        assert!(
            response.status().is_success(),
            "sign-in failed: {response:?}"
        );
        let body: Value = response.json().await.expect("InitiateAuth returns JSON");
        let result = &body["AuthenticationResult"];
        Tokens {
            id: result["IdToken"].as_str().expect("an ID token").to_owned(),
            access: result["AccessToken"]
                .as_str()
                .expect("an access token")
                .to_owned(),
        }
    }

    /// moto signs every pool's tokens with one RSA key that ships with it; `cargo xtask test` writes it as PEM.
    pub fn moto_key(&self) -> (String, EncodingKey) {
        let pem = std::fs::read(&self.signing_key).expect("moto's signing key is readable");
        let key = EncodingKey::from_rsa_pem(&pem).expect("moto's signing key is an RSA PEM");
        (self.signing_kid.clone(), key)
    }
}

/// The claims of a token, unverified (to forge variants of a real one).
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

/// An RS256 token with these claims, signed by `key` under `kid`.
pub fn sign(claims: &Value, key: &EncodingKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("signing works")
}

/// `alg: none`: header and claims, empty signature.
pub fn unsigned(claims: &Value, kid: &str) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        part(json!({"alg": "none", "typ": "JWT", "kid": kid})),
        part(claims.clone())
    )
}
