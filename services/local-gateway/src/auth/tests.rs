use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use super::*;

const KEY: &str = include_str!("../../tests/fixtures/test-signing-key.pem");
const OTHER_KEY: &str = include_str!("../../tests/fixtures/other-signing-key.pem");
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
const CLIENT: &str = "test-client";
const KID: &str = "test-kid";

/// A JWKS endpoint on loopback that counts its fetches; its key set can be replaced.
struct JwksServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    keys: Arc<std::sync::Mutex<Value>>,
}

impl JwksServer {
    async fn start(keys: Value) -> Self {
        let fetches = Arc::new(AtomicUsize::new(0));
        let keys = Arc::new(std::sync::Mutex::new(keys));
        let (count, served) = (fetches.clone(), keys.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().to_string();
                async move { body }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, fetches, keys }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn authorizer(&self, refetch_interval: Duration) -> Authorizer {
        let settings = CognitoSettings {
            jwks_url: self.url.clone(),
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
        };
        Authorizer::with_refetch_interval(settings, reqwest::Client::new(), refetch_interval)
    }
}

fn jwks(keys: &[(&str, &str)]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, pem)| {
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            let mut jwk =
                serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap())
                    .unwrap();
            jwk["kid"] = json!(kid);
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn id_claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "6762b34f-4e26-4a8e-a032-35a1e58e1b1c", "aud": CLIENT, "token_use": "id",
        "iat": now(), "auth_time": now(), "exp": now() + 3600, "email": "demo@example.com",
        "email_verified": true, "cognito:groups": ["admins", "staff"],
    })
}

fn sign(claims: &Value, pem: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn server() -> JwksServer {
    JwksServer::start(jwks(&[(KID, KEY)])).await
}

#[tokio::test]
async fn an_id_token_for_the_app_client_is_accepted_with_its_claims_as_strings() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    let claims = id_claims();

    let passed = auth
        .authorize(Some(&bearer(&sign(&claims, KEY, KID))))
        .await
        .unwrap();

    assert_eq!(passed["sub"], "6762b34f-4e26-4a8e-a032-35a1e58e1b1c");
    assert_eq!(passed["email_verified"], "true");
    assert_eq!(passed["cognito:groups"], "admins,staff");
    assert_eq!(passed["auth_time"], claims["auth_time"].to_string());
    let exp = chrono::DateTime::from_timestamp(claims["exp"].as_i64().unwrap(), 0).unwrap();
    assert_eq!(
        passed["exp"],
        exp.format("%a %b %d %H:%M:%S UTC %Y").to_string()
    );
    assert!(passed.values().all(Value::is_string));
}

#[tokio::test]
async fn an_access_token_is_accepted_for_the_app_client_and_refused_for_another() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    let mut claims = id_claims();
    claims.as_object_mut().unwrap().remove("aud");
    claims["token_use"] = json!("access");
    claims["client_id"] = json!(CLIENT);
    let mut foreign = claims.clone();
    foreign["client_id"] = json!("another-client");

    let ok = auth
        .authorize(Some(&bearer(&sign(&claims, KEY, KID))))
        .await;
    let refused = auth
        .authorize(Some(&bearer(&sign(&foreign, KEY, KID))))
        .await;

    assert!(ok.is_ok(), "{ok:?}");
    assert!(
        matches!(refused, Err(AuthError::WrongClient)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_bare_token_and_any_case_of_bearer_are_accepted() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    let token = sign(&id_claims(), KEY, KID);

    for header in [
        token.clone(),
        format!("bearer {token}"),
        format!("  BEARER   {token} "),
    ] {
        assert!(auth.authorize(Some(&header)).await.is_ok(), "{header}");
    }
}

#[tokio::test]
async fn a_missing_or_empty_header_is_refused() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);

    assert!(matches!(
        auth.authorize(None).await,
        Err(AuthError::Missing)
    ));
    assert!(matches!(
        auth.authorize(Some("Bearer ")).await,
        Err(AuthError::Missing)
    ));
    assert!(matches!(
        auth.authorize(Some("not.a-jwt")).await,
        Err(AuthError::Malformed(_))
    ));
}

#[tokio::test]
async fn expired_tokens_wrong_issuers_audiences_and_token_uses_are_refused() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    let variant = |field: &str, value: Value| {
        let mut claims = id_claims();
        claims[field] = value;
        sign(&claims, KEY, KID)
    };

    let expired = auth
        .authorize(Some(&variant("exp", json!(now() - 5))))
        .await;
    let issuer = auth
        .authorize(Some(&variant("iss", json!("https://evil.example/pool"))))
        .await;
    let audience = auth
        .authorize(Some(&variant("aud", json!("another-client"))))
        .await;
    let token_use = auth
        .authorize(Some(&variant("token_use", json!("refresh"))))
        .await;

    assert!(matches!(expired, Err(AuthError::Invalid(_))), "{expired:?}");
    assert!(matches!(issuer, Err(AuthError::Invalid(_))), "{issuer:?}");
    assert!(
        matches!(audience, Err(AuthError::WrongClient)),
        "{audience:?}"
    );
    assert!(
        matches!(token_use, Err(AuthError::TokenUse(_))),
        "{token_use:?}"
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_pools_kid_is_refused() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);

    let forged = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, KID)))
        .await;

    assert!(matches!(forged, Err(AuthError::Invalid(_))), "{forged:?}");
}

#[tokio::test]
async fn unsigned_and_hmac_tokens_are_refused_before_any_key_is_looked_up() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        part(json!({"alg": "none", "typ": "JWT", "kid": KID})),
        part(id_claims())
    );
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(KID.into());
    // The classic confusion: the public key used as an HMAC secret.
    let hmac = encode(
        &hs_header,
        &id_claims(),
        &EncodingKey::from_secret(jwks.url.as_bytes()),
    )
    .unwrap();

    let none = auth.authorize(Some(&unsigned)).await;
    let hs256 = auth.authorize(Some(&hmac)).await;

    assert!(matches!(none, Err(AuthError::Malformed(_))), "{none:?}");
    assert!(
        matches!(hs256, Err(AuthError::Algorithm(Algorithm::HS256))),
        "{hs256:?}"
    );
    assert_eq!(jwks.fetches(), 0);
}

#[tokio::test]
async fn unknown_key_ids_refetch_the_jwks_at_most_once_per_interval() {
    let jwks = server().await;
    let auth = jwks.authorizer(REFETCH_INTERVAL);
    auth.prefetch().await.unwrap();

    let first = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, "rotated")))
        .await;
    let second = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, "rotated-again")))
        .await;

    assert!(matches!(first, Err(AuthError::UnknownKey(_))), "{first:?}");
    assert!(
        matches!(second, Err(AuthError::UnknownKey(_))),
        "{second:?}"
    );
    assert_eq!(jwks.fetches(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_a_refetch_and_known_keys_are_served_from_the_cache() {
    let jwks = server().await;
    let auth = jwks.authorizer(Duration::ZERO);
    auth.prefetch().await.unwrap();
    *jwks.keys.lock().unwrap() = super::tests::jwks(&[(KID, KEY), ("rotated", OTHER_KEY)]);

    let rotated = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, "rotated")))
        .await;
    let known = auth.authorize(Some(&sign(&id_claims(), KEY, KID))).await;

    assert!(rotated.is_ok(), "{rotated:?}");
    assert!(known.is_ok(), "{known:?}");
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_gateway_failure_not_a_verdict_on_the_token() {
    let auth = Authorizer::new(
        CognitoSettings {
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
        },
        reqwest::Client::new(),
    );

    let result = auth.authorize(Some(&sign(&id_claims(), KEY, KID))).await;

    assert!(matches!(result, Err(AuthError::Jwks(_))), "{result:?}");
}
