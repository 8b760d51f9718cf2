//! API Gateway's active tracing, as the functions see it: every request reaches the function with an
//! `X-Amzn-Trace-Id: Root=…;Parent=…;Sampled=0|1` header.
//!
//! As in AWS, a request that already carries a trace header with a valid `Root` keeps that root, and its
//! `Sampled` decision when it has one ("API Gateway passes the trace through"); otherwise the stage's sampling
//! rule decides: a reservoir of requests per second, then a fixed rate of the rest. The default is X-Ray's
//! default rule (1 per second, then 5 %). `Parent` is always new: API Gateway's own segment.
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html>

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The stage's sampling rule (an X-Ray sampling rule's `reservoir_size` and `fixed_rate`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplingRule {
    /// Requests sampled each second before the rate applies.
    pub reservoir_per_second: u32,
    /// Share of the remaining requests sampled, 0 to 1.
    pub fixed_rate: f64,
}

impl SamplingRule {
    /// X-Ray's default rule: the first request each second, then 5 % of the rest.
    pub const AWS_DEFAULT: Self = Self {
        reservoir_per_second: 1,
        fixed_rate: 0.05,
    };
}

impl Default for SamplingRule {
    fn default() -> Self {
        Self::AWS_DEFAULT
    }
}

/// Decides and writes the trace header of each request.
#[derive(Debug)]
pub struct Tracing {
    rule: SamplingRule,
    /// The current second and how much of its reservoir is used.
    reservoir: Mutex<(u64, u32)>,
}

impl Tracing {
    pub fn new(rule: SamplingRule) -> Self {
        Self {
            rule,
            reservoir: Mutex::new((0, 0)),
        }
    }

    /// The header the function receives, given the one the client sent (if any).
    pub fn trace_header(&self, incoming: Option<&str>) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let draw = (random_u128() >> 64) as f64 / 2f64.powi(64);
        self.header_at(incoming, now, draw, random_u128())
    }

    /// [`Self::trace_header`] at second `now`, with `draw` in [0, 1) for the rate and `random` for new ids.
    fn header_at(&self, incoming: Option<&str>, now: u64, draw: f64, random: u128) -> String {
        let passed = incoming.and_then(Incoming::parse);
        let root = passed
            .as_ref()
            .map(|p| p.root.clone())
            .unwrap_or_else(|| format!("1-{:08x}-{:024x}", now as u32, random >> 32));
        let sampled = match passed.and_then(|p| p.sampled) {
            Some(decided) => decided,
            None => self.sample(now, draw),
        };
        let parent = (random as u64).max(1);
        format!(
            "Root={root};Parent={parent:016x};Sampled={}",
            u8::from(sampled)
        )
    }

    fn sample(&self, now: u64, draw: f64) -> bool {
        let mut reservoir = self.reservoir.lock().expect("sampler lock");
        if reservoir.0 != now {
            *reservoir = (now, 0);
        }
        if reservoir.1 < self.rule.reservoir_per_second {
            reservoir.1 += 1;
            return true;
        }
        draw < self.rule.fixed_rate
    }
}

/// What API Gateway keeps of a client's header: a well-formed root and a 0/1 decision.
struct Incoming {
    root: String,
    sampled: Option<bool>,
}

impl Incoming {
    fn parse(header: &str) -> Option<Self> {
        let mut root = None;
        let mut sampled = None;
        for (key, value) in header
            .split(';')
            .filter_map(|part| part.trim().split_once('='))
        {
            match key {
                "Root" if well_formed_root(value) => root = Some(value.to_owned()),
                "Sampled" if value == "1" => sampled = Some(true),
                "Sampled" if value == "0" => sampled = Some(false),
                _ => {}
            }
        }
        Some(Self {
            root: root?,
            sampled,
        })
    }
}

/// `1-` then 8 and 24 hex digits.
fn well_formed_root(value: &str) -> bool {
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    matches!(value.split('-').collect::<Vec<_>>().as_slice(), ["1", time, id] if hex(time, 8) && hex(id, 24))
}

fn random_u128() -> u128 {
    uuid::Uuid::new_v4().as_u128()
}

#[cfg(test)]
mod tests;
