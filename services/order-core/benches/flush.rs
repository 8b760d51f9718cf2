//! `cargo xtask bench flush`: what flushing spans at the end of an invocation costs when the OTLP collector is on
//! loopback. Each iteration builds the span tree of a create-order invocation (~30 spans) and then times
//! `Telemetry::flush` (a synchronous OTLP/HTTP export). Not a test: it asserts nothing about time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A minimal OTLP/HTTP collector: answers every POST with 200 and counts the bytes it received.
fn sink() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    counter.fetch_add(length, Ordering::Relaxed);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                    );
                }
            });
        }
    });
    (port, received)
}

fn invocation_spans() {
    let root = tracing::info_span!("POST /orders", otel.kind = "server", faas.trigger = "http");
    let _root = root.enter();
    for i in 0..29 {
        let child = tracing::info_span!("query", db.system = "postgresql", n = i);
        let _c = child.enter();
    }
}

fn main() {
    let (port, received) = sink();
    // SAFETY: single-threaded at this point; the exporter reads its endpoint from the standard variable.
    unsafe {
        std::env::set_var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let telemetry = order_core::telemetry::init("flush-bench");
    let iterations = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);

    let mut flush = Vec::with_capacity(iterations);
    let mut spans_only = Vec::with_capacity(iterations);
    for i in 0..iterations + 50 {
        let t0 = Instant::now();
        invocation_spans();
        let t1 = Instant::now();
        telemetry.flush();
        let t2 = Instant::now();
        if i >= 50 {
            spans_only.push(t1 - t0);
            flush.push(t2 - t1);
        }
    }
    flush.sort();
    spans_only.sort();
    let pct = |v: &[Duration], p: f64| {
        v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    println!("iterations:             {iterations} (after 50 warm-up), 30 spans each");
    println!(
        "exported:               {} KiB to the loopback collector",
        received.load(Ordering::Relaxed) / 1024
    );
    println!(
        "building the spans:     p50 {:.3} ms",
        pct(&spans_only, 0.5)
    );
    println!(
        "flush per invocation:   p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(&flush, 0.5),
        pct(&flush, 0.99),
        pct(&flush, 1.0)
    );
    println!(
        "BENCH_RESULT flush_p50_ms={:.3} flush_p99_ms={:.3}",
        pct(&flush, 0.5),
        pct(&flush, 0.99)
    );
    assert!(
        received.load(Ordering::Relaxed) > 0,
        "the collector received nothing: export is broken"
    );
}
