use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use super::*;
use crate::testing::{
    CLIENT, ISSUER, JwksServer, KEY, KID, OTHER_KEY, SUB, access_claims, bearer, id_claims, jwks,
    now, sign,
};

fn default_authorizer(jwks: &JwksServer) -> Authorizer {
    jwks.authorizer(RefreshPolicy::default())
}

#[tokio::test]
async fn an_id_token_for_the_app_client_is_accepted_with_its_claims_as_strings() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
    let claims = id_claims();

    let passed = auth
        .authorize(Some(&bearer(&sign(&claims, KEY, KID))))
        .await
        .unwrap();

    assert_eq!(passed["sub"], SUB);
    assert_eq!(passed["token_use"], "id");
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
async fn an_access_token_is_refused_even_for_the_app_client_because_the_api_has_no_scopes() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
    let token = sign(&access_claims(), KEY, KID);

    let with_bearer = auth.authorize(Some(&bearer(&token))).await;
    let bare = auth.authorize(Some(&token)).await;

    for refused in [with_bearer, bare] {
        assert!(
            matches!(&refused, Err(AuthError::NotAnIdToken(token_use)) if token_use == "access"),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn an_access_token_with_an_aud_claim_is_still_refused() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
    let mut claims = access_claims();
    claims["aud"] = json!(CLIENT);

    let refused = auth
        .authorize(Some(&bearer(&sign(&claims, KEY, KID))))
        .await;

    assert!(
        matches!(refused, Err(AuthError::NotAnIdToken(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_bare_token_and_any_case_of_bearer_are_accepted() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
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
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);

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
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
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
        matches!(token_use, Err(AuthError::NotAnIdToken(_))),
        "{token_use:?}"
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_pools_kid_is_refused() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);

    let forged = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, KID)))
        .await;

    assert!(matches!(forged, Err(AuthError::Invalid(_))), "{forged:?}");
}

#[tokio::test]
async fn unsigned_and_hmac_tokens_are_refused_before_any_key_is_looked_up() {
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
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
    let jwks = JwksServer::start().await;
    let auth = default_authorizer(&jwks);
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
    let jwks = JwksServer::start().await;
    let auth = jwks.authorizer(RefreshPolicy {
        refetch_interval: Duration::ZERO,
        ..RefreshPolicy::default()
    });
    auth.prefetch().await.unwrap();
    *jwks.keys.lock().unwrap() = jwks_of_both();

    let rotated = auth
        .authorize(Some(&sign(&id_claims(), OTHER_KEY, "rotated")))
        .await;
    let known = auth.authorize(Some(&sign(&id_claims(), KEY, KID))).await;

    assert!(rotated.is_ok(), "{rotated:?}");
    assert!(known.is_ok(), "{known:?}");
    assert_eq!(jwks.fetches(), 2);
}

fn jwks_of_both() -> Value {
    jwks(&[(KID, KEY), ("rotated", OTHER_KEY)])
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_gateway_failure_not_a_verdict_on_the_token() {
    let auth = Authorizer::new(
        crate::config::CognitoSettings {
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
        },
        reqwest::Client::new(),
    );

    let result = auth.authorize(Some(&sign(&id_claims(), KEY, KID))).await;

    assert!(matches!(result, Err(AuthError::Jwks(_))), "{result:?}");
}
