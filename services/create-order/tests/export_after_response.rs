//! Spans are exported after the response, and none is lost, from the real create-order binary under a Runtime
//! API that sequences the runtime and the extensions as Lambda does ([`support::runtime_api`]):
//! - the export reaches the collector after the response and before the environment can be frozen (the runtime
//!   and the span export extension have both asked for their next events), checked by freezing it (SIGSTOP);
//! - a SIGTERM while an invocation's spans are still pending exports them before the process exits;
//! - a crash of the next invocation (SIGKILL as it is handed out) loses none of the previous one's spans;
//! - without an Extensions API spans are still exported after the response and before the next event; the
//!   missing API (no SIGTERM at shutdown) is said once.
//!
//! Needs PostgreSQL and the SQS emulator: run with `cargo xtask test`.

mod support;

use std::time::{Duration, Instant};

use support::runtime_api::Behaviour;
use support::{Function, Received, Receiver, World, post_order_event};

/// The batch processor's own timer must not export in the middle of a test: only flushes do.
const NO_TIMER: (&str, &str) = ("OTEL_BSP_SCHEDULE_DELAY", "600000");

fn order_id(answer: &support::Answer) -> String {
    let body: serde_json::Value =
        serde_json::from_str(answer.body["body"].as_str().expect("a body")).unwrap();
    body["id"].as_str().expect("an order id").to_owned()
}

/// The export requests that carry `order`'s spans.
fn carrying(receiver: &Receiver, order: &str) -> Vec<Received> {
    receiver
        .requests()
        .into_iter()
        .filter(|r| r.body.windows(order.len()).any(|w| w == order.as_bytes()))
        .collect()
}

/// Asserts that the collector holds the order's server span and its INSERT.
fn assert_delivered(receiver: &Receiver, order: &str, log: &str) {
    let requests = carrying(receiver, order);
    let spans = support::spans(&requests);
    let of_order = |name: &str| {
        spans.iter().any(|s| {
            s.name == name && s.attributes.get("order.id").map(String::as_str) == Some(order)
        })
    };
    assert!(
        of_order("POST /orders") && of_order("INSERT orders"),
        "the spans of order {order} were not delivered: {spans:#?}\n{log}"
    );
}

fn arrivals(requests: &[Received]) -> (Instant, Instant) {
    let first = requests.iter().map(|r| r.at).min().expect("a request");
    let last = requests.iter().map(|r| r.at).max().expect("a request");
    (first, last)
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_exported_after_the_response_and_before_the_environment_can_be_frozen() {
    // Arrange
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let env = [
        ("AWS_OTLP_TRACES_ENDPOINT", receiver.url.as_str()),
        NO_TIMER,
    ];
    let mut function = Function::start(&world, &env).await;

    // Act: one invocation, then freeze the process the moment Lambda could.
    let answer = function.answer(post_order_event()).await;
    let idle = function.idle().await;
    function.signal("STOP");

    // Assert
    assert_eq!(answer.status(), 202, "{answer:?}");
    assert!(
        function.extension,
        "the span export extension did not register"
    );
    let order = order_id(&answer);
    assert_delivered(&receiver, &order, &function.log_text());
    let (first, last) = arrivals(&carrying(&receiver, &order));
    assert!(first > answer.at, "spans were exported before the response");
    assert!(
        last <= idle,
        "spans arrived after the environment could be frozen"
    );
    println!(
        "export began {:.1} ms after the response; the environment was idle {:.1} ms after it",
        (first - answer.at).as_secs_f64() * 1000.0,
        (idle - answer.at).as_secs_f64() * 1000.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigterm_while_spans_are_pending_exports_them_before_the_process_exits() {
    // Arrange: the Runtime API never acknowledges the response, so the invocation's spans stay pending.
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let env = [
        ("AWS_OTLP_TRACES_ENDPOINT", receiver.url.as_str()),
        NO_TIMER,
    ];
    let acknowledge = false;
    let behaviour = Behaviour {
        acknowledge,
        ..Behaviour::default()
    };
    let mut function = Function::start_with(&world, &env, behaviour).await;
    let answer = function.answer(post_order_event()).await;
    let order = order_id(&answer);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        carrying(&receiver, &order).is_empty(),
        "the spans were exported before the response was acknowledged"
    );

    // Act
    function.signal("TERM");
    let status = function.exited(Duration::from_secs(10)).await;

    // Assert
    assert!(
        status.success(),
        "exited with {status}\n{}",
        function.log_text()
    );
    assert_delivered(&receiver, &order, &function.log_text());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_of_the_next_invocation_loses_none_of_the_previous_ones_spans() {
    // Arrange
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let env = [
        ("AWS_OTLP_TRACES_ENDPOINT", receiver.url.as_str()),
        NO_TIMER,
    ];
    let mut function = Function::start(&world, &env).await;
    let answer = function.answer(post_order_event()).await;

    // Act: the next invocation dies the moment it is handed out, as abruptly as an abort.
    let next_handed_out = function.hand_out(post_order_event()).await;
    function.signal("KILL");
    function.exited(Duration::from_secs(10)).await;

    // Assert
    let order = order_id(&answer);
    assert_delivered(&receiver, &order, &function.log_text());
    let (_, last) = arrivals(&carrying(&receiver, &order));
    assert!(
        last < next_handed_out,
        "the next event was handed out before the previous invocation's spans were exported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_extensions_api_the_runtime_exports_after_the_response_and_says_so_once() {
    // Arrange
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let env = [
        ("AWS_OTLP_TRACES_ENDPOINT", receiver.url.as_str()),
        NO_TIMER,
    ];
    let extensions = false;
    let behaviour = Behaviour {
        extensions,
        ..Behaviour::default()
    };
    let mut function = Function::start_with(&world, &env, behaviour).await;

    // Act
    let mut invocations = Vec::new();
    for _ in 0..2 {
        let answer = function.answer(post_order_event()).await;
        let idle = function.idle().await;
        invocations.push((answer, idle));
    }

    // Assert
    assert!(!function.extension);
    for (answer, idle) in &invocations {
        let order = order_id(answer);
        assert_delivered(&receiver, &order, &function.log_text());
        let (first, last) = arrivals(&carrying(&receiver, &order));
        assert!(
            first > answer.at && last <= *idle,
            "not between the response and the next event"
        );
    }
    let said = function
        .log_text()
        .matches("no Lambda Extensions API")
        .count();
    assert_eq!(said, 1, "{}", function.log_text());
}
