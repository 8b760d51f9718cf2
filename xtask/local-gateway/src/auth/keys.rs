//! The user pool's signing keys: fetched from the JWKS URL and cached. A refresh is one shared fetch that runs
//! on its own task: requests whose key is cached never wait for it, requests that need it wait for its result
//! (not for a lock), it gives up after a timeout, and a failure blocks the next try only for a short back-off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::watch;
use tokio::time::Instant;

use super::AuthError;

/// When the cache goes back to the JWKS URL.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    /// After a successful fetch, an unknown key id refetches no sooner than this, so bad tokens cannot hammer
    /// the pool.
    pub refetch_interval: Duration,
    /// After a failed fetch, the next request that needs the keys tries again after this.
    pub failure_backoff: Duration,
    /// A fetch (connect, headers and body) that has not finished by then fails.
    pub fetch_timeout: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refetch_interval: Duration::from_secs(60),
            failure_backoff: Duration::from_secs(2),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// A fetch under way, watched by every request that waits for it: once done, the number of keys or why it
/// failed.
type Fetch = watch::Receiver<Option<Result<usize, String>>>;

#[derive(Default)]
struct State {
    keys: HashMap<String, DecodingKey>,
    /// No fetch for an unknown key id starts before this.
    quiet_until: Option<Instant>,
    /// Why the last fetch failed (cleared by a success).
    last_error: Option<String>,
    in_flight: Option<Fetch>,
}

struct Inner {
    url: String,
    http: reqwest::Client,
    policy: RefreshPolicy,
    /// Held only to read or swap the state, never across an `.await`.
    state: Mutex<State>,
}

/// The cached keys of one JWKS URL.
pub struct KeyStore {
    inner: Arc<Inner>,
}

impl KeyStore {
    /// An empty cache; the first lookup (or [`KeyStore::fetch_now`]) fetches.
    pub fn new(url: String, http: reqwest::Client, policy: RefreshPolicy) -> Self {
        let state = Mutex::new(State::default());
        Self {
            inner: Arc::new(Inner {
                url,
                http,
                policy,
                state,
            }),
        }
    }

    /// Fetches now whatever the back-off (joining a fetch under way) and returns the number of keys.
    pub async fn fetch_now(&self) -> Result<usize, AuthError> {
        let fetch = self.inner.fetch(&mut self.inner.lock());
        outcome(fetch).await.map_err(AuthError::Jwks)
    }

    /// The key `kid`: from the cache, else after a refresh if the policy allows one now.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let fetch = {
            let mut state = self.inner.lock();
            if let Some(key) = state.keys.get(kid) {
                return Ok(key.clone());
            }
            let quiet = state.quiet_until.is_some_and(|t| Instant::now() < t);
            if quiet && state.in_flight.is_none() {
                return Err(match &state.last_error {
                    Some(reason) => AuthError::Jwks(reason.clone()),
                    None => AuthError::UnknownKey(kid.to_owned()),
                });
            }
            self.inner.fetch(&mut state)
        };
        outcome(fetch).await.map_err(AuthError::Jwks)?;
        let state = self.inner.lock();
        state
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()))
    }
}

/// Waits for `fetch` to finish: a wait for its result, not for a lock.
async fn outcome(mut fetch: Fetch) -> Result<usize, String> {
    match fetch.wait_for(Option::is_some).await {
        Ok(done) => done.clone().unwrap_or_else(|| Err("no result".into())),
        Err(_) => Err("the JWKS fetch stopped before it finished".into()),
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fetch under way, or a new one. It runs on its own task, so it finishes (and updates the cache) even
    /// if every request waiting for it goes away.
    fn fetch(self: &Arc<Self>, state: &mut State) -> Fetch {
        if let Some(fetch) = &state.in_flight {
            return fetch.clone();
        }
        let (done, fetch) = watch::channel(None);
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            let result = inner.refresh().await;
            done.send_replace(Some(result));
        });
        state.in_flight = Some(fetch.clone());
        fetch
    }

    /// Downloads the keys within the timeout and records the result and the next allowed fetch.
    async fn refresh(&self) -> Result<usize, String> {
        let timeout = self.policy.fetch_timeout;
        let fetched = tokio::time::timeout(timeout, self.download())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")));
        let mut state = self.lock();
        state.in_flight = None;
        match fetched {
            Ok(keys) => {
                state.keys = keys;
                state.quiet_until = Some(Instant::now() + self.policy.refetch_interval);
                state.last_error = None;
                tracing::info!(keys = state.keys.len(), url = %self.url, "fetched the user pool's JWKS");
                Ok(state.keys.len())
            }
            Err(reason) => {
                state.quiet_until = Some(Instant::now() + self.policy.failure_backoff);
                state.last_error = Some(reason.clone());
                tracing::warn!(%reason, url = %self.url, "could not fetch the user pool's JWKS");
                Err(reason)
            }
        }
    }

    async fn download(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let jwks: JwkSet = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(jwks
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
            .collect())
    }
}

#[cfg(test)]
mod tests;
