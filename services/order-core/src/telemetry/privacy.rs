//! What spans may say about people and orders, enforced where they leave the process: a span exporter wrapper
//! that gives every span of an order `order.id` (so Transaction Search finds the whole trace by order id) and
//! replaces the customer's Cognito `sub` with a salted hash.
//!
//! Doing it at export keeps the call sites as they are (`order_id = %id`, `customer_id = …`) and covers spans
//! added later; the JSON logs are not touched.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::SpanId;
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use sha2::{Digest, Sha256};

use crate::domain::CustomerId;

/// The attribute Transaction Search is queried by.
pub const ORDER_ID: &str = "order.id";
/// The attribute the code puts on spans (and logs).
const ORDER_ID_FIELD: &str = "order_id";
/// Replaces the customer attributes below: [`customer_hash`] of their value.
pub const CUSTOMER_HASH: &str = "customer.hash";
/// Attributes that would carry the caller's `sub`; never exported.
const CUSTOMER_KEYS: [&str; 3] = ["customer_id", "customer.id", "enduser.id"];
/// How far up a parent chain `order.id` is looked for.
const MAX_DEPTH: usize = 64;

/// Something naming a customer.
pub trait Customer {
    fn sub(&self) -> &str;
}

impl Customer for str {
    fn sub(&self) -> &str {
        self
    }
}

impl Customer for String {
    fn sub(&self) -> &str {
        self
    }
}

impl Customer for CustomerId {
    fn sub(&self) -> &str {
        self.as_str()
    }
}

/// A stable pseudonym for a customer: SHA-256 over `TELEMETRY_HASH_SALT`, a NUL byte and the `sub`, the first 16
/// bytes in hex (32 characters). The same customer always gets the same value within one salt.
pub fn customer_hash(customer: &(impl Customer + ?Sized)) -> String {
    static SALT: OnceLock<String> = OnceLock::new();
    let salt =
        SALT.get_or_init(|| crate::config::optional("TELEMETRY_HASH_SALT").unwrap_or_default());
    salted_hash(salt, customer.sub())
}

fn salted_hash(salt: &str, sub: &str) -> String {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update([0])
        .chain_update(sub.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Wraps the real exporter; see the module documentation.
#[derive(Debug)]
pub struct Scrubbing<E> {
    inner: E,
}

impl<E> Scrubbing<E> {
    pub fn new(inner: E) -> Self {
        Self { inner }
    }
}

impl<E: SpanExporter> SpanExporter for Scrubbing<E> {
    fn export(
        &self,
        mut batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        scrub(&mut batch);
        self.inner.export(batch)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Rewrites a batch: customer attributes hashed (spans and their events), `order.id` from `order_id` or, failing
/// that, from the nearest ancestor in the batch that has one (a flush exports a whole invocation at once).
pub fn scrub(batch: &mut [SpanData]) {
    for span in batch.iter_mut() {
        hash_customer(&mut span.attributes);
        for event in span.events.events.iter_mut() {
            hash_customer(&mut event.attributes);
        }
    }
    let own: HashMap<SpanId, Value> = batch
        .iter()
        .filter_map(|s| Some((s.span_context.span_id(), order_of(&s.attributes)?)))
        .collect();
    let parents: HashMap<SpanId, SpanId> = batch
        .iter()
        .map(|s| (s.span_context.span_id(), s.parent_span_id))
        .collect();
    for span in batch.iter_mut() {
        if has(&span.attributes, ORDER_ID) {
            continue;
        }
        let mut id = span.span_context.span_id();
        let mut found = None;
        for _ in 0..MAX_DEPTH {
            if let Some(order) = own.get(&id) {
                found = Some(order.clone());
                break;
            }
            match parents.get(&id) {
                Some(parent) if *parent != SpanId::INVALID => id = *parent,
                _ => break,
            }
        }
        if let Some(order) = found {
            span.attributes.push(KeyValue::new(ORDER_ID, order));
        }
    }
}

fn has(attributes: &[KeyValue], key: &str) -> bool {
    attributes.iter().any(|kv| kv.key.as_str() == key)
}

fn order_of(attributes: &[KeyValue]) -> Option<Value> {
    let get = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
            .filter(|v| !v.as_str().is_empty())
    };
    get(ORDER_ID).or_else(|| get(ORDER_ID_FIELD))
}

fn hash_customer(attributes: &mut Vec<KeyValue>) {
    let mut hashed = None;
    attributes.retain(|kv| {
        let customer = CUSTOMER_KEYS.contains(&kv.key.as_str());
        if customer && !kv.value.as_str().is_empty() {
            hashed = Some(customer_hash(kv.value.as_str().as_ref()));
        }
        !customer
    });
    if let Some(hash) = hashed.filter(|_| !has(attributes, CUSTOMER_HASH)) {
        attributes.push(KeyValue::new(Key::from_static_str(CUSTOMER_HASH), hash));
    }
}

#[cfg(test)]
mod tests;
