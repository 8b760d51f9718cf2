//! The refresh, seen from `Authorizer::authorize`: no request waits behind a lock for a slow fetch, a failed
//! fetch is retried after the short back-off, and a fetch gives up at its timeout.

use std::time::Duration;

use axum::http::StatusCode;
use tokio::time::Instant;

use crate::auth::{AuthError, RefreshPolicy};
use crate::testing::{JwksServer, KEY, KID, OTHER_KEY, id_claims, jwks, sign};

const SLOW: Duration = Duration::from_millis(800);

fn policy() -> RefreshPolicy {
    RefreshPolicy {
        refetch_interval: Duration::ZERO,
        failure_backoff: Duration::from_millis(300),
        fetch_timeout: Duration::from_secs(5),
    }
}

#[test]
fn by_default_a_failure_blocks_the_next_fetch_for_seconds_not_a_minute() {
    let policy = RefreshPolicy::default();

    assert!(policy.failure_backoff <= Duration::from_secs(5));
    assert!(policy.fetch_timeout <= Duration::from_secs(5));
    assert_eq!(policy.refetch_interval, Duration::from_secs(60));
}

#[tokio::test]
async fn requests_with_cached_keys_are_answered_while_a_slow_fetch_is_under_way() {
    let jwks = JwksServer::start().await;
    let auth = jwks.authorizer(policy());
    auth.prefetch().await.unwrap();
    jwks.set_delay(SLOW);
    *jwks.keys.lock().unwrap() = jwks_of_both();
    let known = sign(&id_claims(), KEY, KID);
    let rotated = sign(&id_claims(), OTHER_KEY, "rotated");

    let started = Instant::now();
    let (slow, fast) = tokio::join!(auth.authorize(Some(&rotated)), async {
        tokio::time::sleep(Duration::from_millis(100)).await; // the slow fetch is under way by now
        let mut answered = Vec::new();
        for _ in 0..5 {
            answered.push(
                auth.authorize(Some(&known))
                    .await
                    .map(|_| started.elapsed()),
            );
        }
        answered
    });

    assert!(slow.is_ok(), "{slow:?}");
    assert!(started.elapsed() >= SLOW);
    for answered in fast {
        let after = answered.unwrap();
        assert!(after < SLOW, "a cached key waited {after:?} for the fetch");
    }
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn concurrent_requests_for_a_new_key_share_one_fetch_instead_of_queueing() {
    let jwks = JwksServer::start().await;
    let auth = jwks.authorizer(policy());
    auth.prefetch().await.unwrap();
    jwks.set_delay(SLOW);
    *jwks.keys.lock().unwrap() = jwks_of_both();
    let rotated = sign(&id_claims(), OTHER_KEY, "rotated");

    let started = Instant::now();
    let results = futures_join_all((0..8).map(|_| auth.authorize(Some(&rotated)))).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(
        started.elapsed() < SLOW * 2,
        "took {:?}: the requests queued",
        started.elapsed()
    );
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn a_failed_fetch_is_retried_by_the_next_request_after_the_short_backoff() {
    let jwks = JwksServer::start().await;
    jwks.set_status(StatusCode::SERVICE_UNAVAILABLE);
    let auth = jwks.authorizer(policy());
    let token = sign(&id_claims(), KEY, KID);

    let failed = auth.authorize(Some(&token)).await;
    let during_backoff = auth.authorize(Some(&token)).await;
    jwks.set_status(StatusCode::OK);
    tokio::time::sleep(policy().failure_backoff).await;
    let after_backoff = auth.authorize(Some(&token)).await;

    assert!(matches!(failed, Err(AuthError::Jwks(_))), "{failed:?}");
    assert!(
        matches!(during_backoff, Err(AuthError::Jwks(_))),
        "{during_backoff:?}"
    );
    assert!(after_backoff.is_ok(), "{after_backoff:?}");
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn a_fetch_that_does_not_answer_fails_within_its_timeout() {
    let jwks = JwksServer::start().await;
    jwks.set_delay(Duration::from_secs(30));
    let timeout = Duration::from_millis(300);
    let auth = jwks.authorizer(RefreshPolicy {
        fetch_timeout: timeout,
        ..policy()
    });

    let started = Instant::now();
    let result = auth.authorize(Some(&sign(&id_claims(), KEY, KID))).await;

    let took = started.elapsed();
    assert!(matches!(result, Err(AuthError::Jwks(_))), "{result:?}");
    assert!(took >= timeout && took < timeout * 3, "took {took:?}");
}

fn jwks_of_both() -> serde_json::Value {
    jwks(&[(KID, KEY), ("rotated", OTHER_KEY)])
}

/// Polls every future concurrently on this task (no spawning, so nothing but the key store can serialize them).
async fn futures_join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
