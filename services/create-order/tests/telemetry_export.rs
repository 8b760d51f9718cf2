//! Span export from the real create-order binary, configured as Terraform configures it
//! (`AWS_OTLP_TRACES_ENDPOINT`, `AWS_REGION`, the role's credentials in the environment, no
//! `OTEL_EXPORTER_OTLP_ENDPOINT`), with the endpoint pointed at loopback:
//! - every export request is SigV4-signed for `xray`, checked by recomputing the signature;
//! - the exported spans carry `order.id` and never the caller's `sub`;
//! - against a collector that accepts and never answers, an invocation still answers 202 in its normal time
//!   (the export comes after the response and is bounded at 300 ms by default).
//!
//! Needs PostgreSQL and the SQS emulator: run with `cargo xtask test`.

mod support;

use std::time::Duration;

use support::{Function, Receiver, SUB, World, black_hole, post_order_event, sigv4};

#[tokio::test(flavor = "multi_thread")]
async fn the_function_signs_every_otlp_request_with_sigv4_for_xray() {
    // Arrange
    let world = World::new().await;
    let receiver = Receiver::start().await;
    let host = receiver.url.split('/').nth(2).unwrap().to_owned();
    let mut function =
        Function::start(&world, &[("AWS_OTLP_TRACES_ENDPOINT", &receiver.url)]).await;

    // Act: after each answer, the extension exports the invocation's spans (`invoke` waits until it is done).
    let mut orders = Vec::new();
    for _ in 0..2 {
        let answer = function.invoke(post_order_event()).await;
        assert_eq!(answer.status(), 202, "{answer:?}\n{}", function.log_text());
        let order: serde_json::Value =
            serde_json::from_str(answer.body["body"].as_str().unwrap()).unwrap();
        orders.push(order["id"].as_str().unwrap().to_owned());
    }

    // Assert
    let requests = receiver.requests();
    assert!(
        !requests.is_empty(),
        "no export request arrived\n{}",
        function.log_text()
    );
    for (n, request) in requests.iter().enumerate() {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/v1/traces")
        );
        sigv4::verify(request, &host).unwrap_or_else(|e| {
            panic!("request {n}: invalid signature: {e}\n{:?}", request.headers)
        });
    }
    let mut tampered = requests[0].clone();
    let mut body = tampered.body.to_vec();
    body.push(0);
    tampered.body = body.into();
    assert!(
        sigv4::verify(&tampered, &host).is_err(),
        "a changed body must break the signature"
    );
    println!(
        "{} export request(s), all with valid SigV4 signatures; a tampered body fails verification",
        requests.len()
    );

    let exported: Vec<u8> = requests.iter().flat_map(|r| r.body.to_vec()).collect();
    let contains = |needle: &str| {
        exported
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    assert!(contains("order.id"), "no span carries order.id");
    for order in &orders {
        assert!(contains(order), "order {order} is in no exported span");
    }
    assert!(!contains(SUB), "the caller's sub was exported");
    assert!(contains("customer.hash"));
    // Every span of the orders' traces names its order; the runtime's own span (its own trace) is the exception.
    let spans = support::spans(&requests);
    for span in spans.iter().filter(|s| s.name != "Lambda runtime invoke") {
        let order = span.attributes.get("order.id");
        assert!(
            order.is_some_and(|o| orders.contains(o)),
            "{} has order.id {order:?}",
            span.name
        );
        assert!(
            !span.attributes.values().any(|v| v.contains(SUB)),
            "{span:?}"
        );
    }
    for order in &orders {
        let of_order = |name: &str| {
            spans
                .iter()
                .any(|s| s.name == name && s.attributes.get("order.id") == Some(order))
        };
        assert!(
            of_order("POST /orders") && of_order("INSERT orders"),
            "{spans:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invocation_answers_within_the_flush_bound_when_the_collector_is_a_black_hole() {
    // Arrange: the same function twice, exporting to a black hole (default 300 ms bound) and not exporting.
    let world = World::new().await;
    let (hole, accepted) = black_hole();
    let mut blocked = Function::start(&world, &[("AWS_OTLP_TRACES_ENDPOINT", &hole)]).await;
    let mut quiet = Function::start(&world, &[("OTEL_TRACES_EXPORTER", "none")]).await;

    // Act: a cold invocation, then warm ones, on each.
    let mut timings = Vec::new();
    for (name, function) in [("black hole", &mut blocked), ("export off", &mut quiet)] {
        let mut took = Vec::new();
        for _ in 0..3 {
            let answer = function.invoke(post_order_event()).await;
            assert_eq!(
                answer.status(),
                202,
                "{name}: {answer:?}\n{}",
                function.log_text()
            );
            took.push(answer.took);
        }
        timings.push((name, took));
    }

    // Assert
    for (name, took) in &timings {
        println!(
            "{name}: invocations took {:?} (cold, warm, warm)",
            took.iter()
                .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
                .collect::<Vec<_>>()
        );
    }
    let (blocked_took, quiet_took) = (&timings[0].1, &timings[1].1);
    for (warm_blocked, warm_quiet) in blocked_took[1..].iter().zip(&quiet_took[1..]) {
        println!(
            "warm: flush against the black hole cost {:.0} ms more than no export",
            (warm_blocked.as_secs_f64() - warm_quiet.as_secs_f64()) * 1000.0
        );
    }
    assert!(
        *accepted.lock().unwrap() >= 1,
        "the exporter never connected to the black hole"
    );
    for took in blocked_took {
        assert!(
            *took < Duration::from_secs(3),
            "an invocation took {took:?} against a black hole with a 300 ms flush bound"
        );
    }
}
