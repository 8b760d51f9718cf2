//! `cargo xtask bench flush`: what exporting spans costs the client and the environment, with the export after
//! the response (order-core's `bootstrap::after_response`). Each scenario runs this bench binary again as a
//! function process (the real runtime, after-response layer and internal extension; a handler that builds a
//! create-order-sized span tree of 30 spans) under a Runtime API that sequences it as Lambda does
//! ([`runtime_api`]), exporting to a collector that answers after 0, 20 or 50 ms or never ([`collector`]). The
//! scenarios take turns, one invocation each, so the machine's other load falls on all of them alike.
//!
//! Per scenario: the latency the client sees (event handed out → response), its difference from the same with
//! export off at p50 and p99, the share of spans the collector received, and how long the environment stays
//! busy after its response (until the runtime and the extension have both asked for the next event). Not a
//! test: it asserts nothing about time.

mod collector;
mod runtime_api;

use std::process::{Command, Stdio};
use std::time::Duration;

use collector::{Answer, Collector};
use runtime_api::RuntimeApi;

/// Spans per invocation, each named with [`MARKER`].
const SPANS: usize = 30;
const MARKER: &str = "flush-bench-span";
const WARM_UP: usize = 20;

struct Scenario {
    name: &'static str,
    collector: Option<Answer>,
    /// Flush in the handler, before the response (how functions exported before the extension).
    before_response: bool,
}

/// What one scenario measured (milliseconds).
struct Measured {
    latency: Vec<f64>,
    busy_after: Vec<f64>,
    delivered: f64,
    by_extension: bool,
}

fn main() {
    if std::env::var_os("FLUSH_BENCH_FUNCTION").is_some() {
        return function();
    }
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let after = |ms| Some(Answer::After(Duration::from_millis(ms)));
    let scenarios = [
        ("export off", None, false),
        ("collector answers at once", after(0), false),
        ("collector answers after 20 ms", after(20), false),
        ("collector answers after 50 ms", after(50), false),
        ("black hole (300 ms bound)", Some(Answer::Never), false),
        ("20 ms, flushed before the response", after(20), true),
    ]
    .map(|(name, collector, before_response)| Scenario {
        name,
        collector,
        before_response,
    });
    println!(
        "{iterations} invocations per scenario (after {WARM_UP} warm-up), {SPANS} spans each, the scenarios \
         taking turns; ms"
    );
    println!(
        "{:<36} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10} {:>10}",
        "scenario",
        "lat p50",
        "lat p99",
        "+p50 vs off",
        "+p99 vs off",
        "delivered",
        "busy p50",
        "busy p99"
    );
    let mut running: Vec<Running> = scenarios.iter().map(Running::start).collect();
    // One invocation of each scenario in turn, so the machine's other load falls on all of them alike.
    for i in 0..WARM_UP + iterations {
        for r in &mut running {
            r.invoke(i, i >= WARM_UP);
        }
    }
    let measured: Vec<Measured> = running.into_iter().map(Running::finish).collect();
    let off = &measured[0];
    let (base50, base99) = (
        percentile(&off.latency, 50.0),
        percentile(&off.latency, 99.0),
    );
    for (scenario, m) in scenarios.iter().zip(&measured) {
        let (p50, p99) = (percentile(&m.latency, 50.0), percentile(&m.latency, 99.0));
        let (busy50, busy99) = (
            percentile(&m.busy_after, 50.0),
            percentile(&m.busy_after, 99.0),
        );
        println!(
            "{:<36} {p50:>9.3} {p99:>9.3} {:>+11.3} {:>+11.3} {:>9.1}% {busy50:>10.3} {busy99:>10.3}{}",
            scenario.name,
            p50 - base50,
            p99 - base99,
            m.delivered,
            if m.by_extension {
                ""
            } else {
                "  (no extension)"
            }
        );
        let key: String = scenario
            .name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        println!(
            "BENCH_RESULT {key} latency_p50_ms={p50:.3} latency_p99_ms={p99:.3} delta_p50_ms={:.3} \
             delta_p99_ms={:.3} delivered_pct={:.1} busy_after_p50_ms={busy50:.3} busy_after_p99_ms={busy99:.3}",
            p50 - base50,
            p99 - base99,
            m.delivered
        );
    }
}

/// One scenario's function process, its Runtime API and collector, and what it measured so far.
struct Running {
    api: RuntimeApi,
    collector: Option<Collector>,
    child: std::process::Child,
    latency: Vec<f64>,
    busy_after: Vec<f64>,
    invoked: usize,
}

impl Running {
    /// Starts the function process for `scenario`.
    fn start(scenario: &Scenario) -> Self {
        let api = RuntimeApi::start();
        let collector = scenario.collector.map(|a| Collector::start(a, MARKER));
        let log = std::env::temp_dir().join(format!("flush-bench-{}.log", api.port));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env("FLUSH_BENCH_FUNCTION", "1")
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "flush-bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("OTEL_BSP_SCHEDULE_DELAY", "600000") // only the flushes export
            .env("RUST_LOG", "info") // as deployed: the spans are info spans
            .env_remove("OTEL_EXPORTER_OTLP_TIMEOUT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        match &collector {
            Some(c) => cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint),
            None => cmd.env("OTEL_TRACES_EXPORTER", "none"),
        };
        if scenario.before_response {
            cmd.env("FLUSH_BENCH_BEFORE_RESPONSE", "1");
        }
        let child = cmd.spawn().expect("the bench binary runs as a function");
        Self {
            api,
            collector,
            child,
            latency: Vec::new(),
            busy_after: Vec::new(),
            invoked: 0,
        }
    }

    /// One invocation, until the environment is idle again; kept if `measured`.
    fn invoke(&mut self, i: usize, measured: bool) {
        let event = include_str!("../../tests/fixtures/apigw_rest_post_orders.json");
        let invocation = self
            .api
            .invoke(format!("flush-bench-{i}"), event.to_owned());
        self.invoked += 1;
        if measured {
            self.latency.push(invocation.latency.as_secs_f64() * 1000.0);
            self.busy_after
                .push(invocation.busy_after.as_secs_f64() * 1000.0);
        }
    }

    fn finish(mut self) -> Measured {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let sent = self.invoked * SPANS;
        Measured {
            latency: self.latency,
            busy_after: self.busy_after,
            delivered: self
                .collector
                .map_or(0.0, |c| c.spans() as f64 * 100.0 / sent as f64),
            by_extension: self.api.registered(),
        }
    }
}

/// The function process: order-core's runtime wiring around a handler that builds one invocation's spans.
fn function() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let telemetry = order_core::telemetry::init("flush-bench");
        let before_response = std::env::var_os("FLUSH_BENCH_BEFORE_RESPONSE").is_some();
        let flusher = telemetry.clone();
        let export = order_core::bootstrap::after_response::Export::start(telemetry).await;
        let handler = lambda_http::service_fn(move |_request: lambda_http::Request| {
            let flusher = flusher.clone();
            async move {
                invocation_spans();
                if before_response {
                    flusher.flush();
                }
                let response = lambda_http::Response::builder()
                    .status(202)
                    .body(lambda_http::Body::from(r#"{"id":"bench"}"#))
                    .unwrap();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let adapter = lambda_http::Adapter::from(handler);
        order_core::bootstrap::after_response::run(export, adapter)
            .await
            .unwrap();
    });
}

fn invocation_spans() {
    let root = tracing::info_span!("flush-bench-span", otel.kind = "server", n = 0);
    let _root = root.enter();
    for i in 1..SPANS {
        let child = tracing::info_span!("flush-bench-span", db.system = "postgresql", n = i);
        let _c = child.enter();
    }
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
