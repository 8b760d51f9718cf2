//! `cargo xtask bench coldstart`: cold start, binary size and idle RSS of the release function binaries beside a
//! hello-world `lambda_runtime` binary, then warm `GET /orders` latency through the local gateway. Figures
//! only; nothing here asserts anything about time.
//!
//! The release binaries are run under a minimal Lambda Runtime API emulator written here (std only), not under
//! `cargo lambda watch`: that one starts functions with `cargo run` (a debug build plus cargo's freshness
//! check), which would measure cargo rather than the binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::stack::{self, DEMO_PASSWORD, DEMO_USERNAME, Options};
use crate::{http, proc};

/// The release binaries measured, the baseline first.
const BINARIES: [&str; 6] = [
    HELLO,
    "create-order",
    "get-orders",
    "process-order",
    "update-stock",
    "outbox-relay",
];
const HELLO: &str = "hello-lambda";
/// Cold starts per binary.
const RUNS: usize = 10;
/// How long one cold start may take before the run fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// `memory_size` of every function in infra/main.tf (only reported to the function; nothing limits it here).
const MEMORY_MB: &str = "256";
/// Warm requests per concurrency level, after `WARM_UP` unmeasured ones.
const REQUESTS: usize = 300;
const WARM_UP: usize = 10;
const CONCURRENCY: [usize; 2] = [1, 16];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn coldstart(root: &Path) -> Result<()> {
    eprintln!(
        "== coldstart: release build of the five functions and hello-lambda (slow: lto, codegen-units=1)"
    );
    let mut build = stack::cargo(root);
    build.args(["build", "--release"]);
    for bin in BINARIES {
        build.args(["--bin", bin]);
    }
    proc::run(&mut build)?;

    eprintln!(
        "== coldstart: the native stack (PostgreSQL, moto, cargo lambda watch, local gateway)"
    );
    let options = Options {
        database: "bench_coldstart",
        fresh_database: true,
        gateway_port: None,
        hot_reload: false,
    };
    let stack = stack::start(root, &options)?;
    let function_env = read_env_file(&stack.log_dir.join("functions.env"))?;

    let mut rows = Vec::new();
    for bin in BINARIES {
        let path = root.join("target/release").join(bin);
        let size = std::fs::metadata(&path)
            .with_context(|| format!("{} is missing", path.display()))?
            .len();
        let log = stack.log_dir.join(format!("coldstart-{bin}.log"));
        let mut runs = Vec::new();
        for run in 0..RUNS {
            let measured = cold_start(&path, bin, &function_env, &log, run)
                .with_context(|| format!("{bin}: cold start {run} (log: {})", log.display()))?;
            runs.push(measured);
        }
        eprintln!("   {bin}: {RUNS} cold starts");
        rows.push((bin, size, runs));
    }

    let hello_p50 = rows
        .iter()
        .find(|(bin, _, _)| *bin == HELLO)
        .map(|(_, _, runs)| p(&millis(runs, |r| r.answered), 50.0))
        .context("no hello-lambda figures")?;
    println!(
        "\ncold start: exec -> first event answered, release binaries (workspace release profile: lto, strip,"
    );
    println!(
        "codegen-units=1), {RUNS} runs each, one at a time, under xtask's own minimal Lambda Runtime API emulator"
    );
    println!(
        "on loopback (std only; not cargo lambda's, whose `watch` starts functions with `cargo run` and debug"
    );
    println!(
        "builds). Env: the stack's functions.env (secret in moto, PostgreSQL, queues, OTLP to otlp-sink) plus"
    );
    println!(
        "AWS_LAMBDA_*; memory size {MEMORY_MB} MB is only reported, not enforced. Events: API Gateway POST/GET"
    );
    println!(
        "/orders without claims (401), SQS with zero records, EventBridge scheduled event for the relay (reads the"
    );
    println!(
        "outbox), echo for hello-lambda. init = exec -> first GET .../invocation/next; answered = exec -> POST"
    );
    println!(
        ".../response received. Idle RSS: VmRSS when the second .../next arrives (lower median of the runs)."
    );
    println!(
        "The rest of the stack was running meanwhile (gateway relay timer, SQS pollers), and so may other builds.\n"
    );
    println!(
        "{:<14} {:>9} {:>9} {:>11} {:>11} {:>9} {:>13} {:>10}",
        "binary", "init p50", "init min", "answer p50", "answer min", "x hello", "size", "idle RSS"
    );
    for (bin, size, runs) in &rows {
        let init = millis(runs, |r| r.init);
        let answered = millis(runs, |r| r.answered);
        let mut rss: Vec<u64> = runs.iter().map(|r| r.rss_kib).collect();
        rss.sort_unstable();
        let rss = rss
            .get(rss.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or(0);
        println!(
            "{:<14} {:>7.1}ms {:>7.1}ms {:>9.1}ms {:>9.1}ms {:>9.2} {:>13} {:>6.1}MiB",
            bin,
            p(&init, 50.0),
            init[0],
            p(&answered, 50.0),
            answered[0],
            p(&answered, 50.0) / hello_p50,
            format!("{:.2}MiB", *size as f64 / 1_048_576.0),
            rss as f64 / 1024.0
        );
    }
    println!("(x hello = answer p50 / hello-lambda's answer p50)");
    for (bin, size, _) in &rows {
        println!(
            "size {bin}: {size} bytes ({:.2} MiB)",
            *size as f64 / 1_048_576.0
        );
    }

    warm_latency(&stack)?;
    drop(stack);
    Ok(())
}

/// One cold start's figures.
struct Measured {
    init: Duration,
    answered: Duration,
    rss_kib: u64,
}

fn millis(runs: &[Measured], which: impl Fn(&Measured) -> Duration) -> Vec<f64> {
    let mut v: Vec<f64> = runs
        .iter()
        .map(|r| which(r).as_secs_f64() * 1000.0)
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Nearest-rank percentile of sorted values.
fn p(sorted: &[f64], percentile: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (percentile / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `KEY='value'` lines, as stack/functions.rs writes them for `cargo lambda watch`.
fn read_env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.strip_prefix('\'').unwrap_or(v);
            let v = v.strip_suffix('\'').unwrap_or(v);
            (k.to_owned(), v.to_owned())
        })
        .collect())
}

/// The event a function gets, and a string its answer must contain.
fn event_for(bin: &str) -> (String, &'static str) {
    match bin {
        "create-order" => (http_event("POST"), "\"statusCode\":401"),
        "get-orders" => (http_event("GET"), "\"statusCode\":401"),
        "process-order" | "update-stock" => (r#"{"Records":[]}"#.to_owned(), "batchItemFailures"),
        "outbox-relay" => (scheduled_event(), "published"),
        _ => (r#"{"hello":"world"}"#.to_owned(), "\"hello\""),
    }
}

fn http_event(method: &str) -> String {
    format!(
        r#"{{"resource":"/orders","path":"/orders","httpMethod":"{method}","headers":{{}},"multiValueHeaders":{{}},"queryStringParameters":null,"multiValueQueryStringParameters":null,"pathParameters":null,"stageVariables":null,"requestContext":{{"resourcePath":"/orders","httpMethod":"{method}","path":"/local/orders","stage":"local","requestId":"xtask-coldstart","identity":{{}}}},"body":null,"isBase64Encoded":false}}"#
    )
}

fn scheduled_event() -> String {
    r#"{"version":"0","id":"xtask-coldstart","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"1970-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#
        .to_owned()
}

/// Starts `path` against a fresh emulator and waits for its first answer and its next `next`.
fn cold_start(
    path: &Path,
    bin: &str,
    function_env: &[(String, String)],
    log: &Path,
    run: usize,
) -> Result<Measured> {
    let (event, expect) = event_for(bin);
    let request_id = format!("xtask-coldstart-{bin}-{run}");
    let emulator = Emulator::start(event, request_id.clone(), bin)?;
    let out = std::fs::File::create(log)?;
    let mut cmd = Command::new(path);
    cmd.env_clear()
        .envs(function_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{}", emulator.port),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", bin)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("2026/01/01/[$LATEST]xtask{run}"),
        )
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{bin}"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("Failed to start {}", path.display()))?;
    let mut child = KillOnDrop(child);

    let deadline = started + RUN_TIMEOUT;
    let (mut init, mut answered) = (None, None);
    loop {
        let now = Instant::now();
        if now > deadline {
            bail!("no answer within {RUN_TIMEOUT:?}");
        }
        match emulator.events.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Next(at)) if init.is_none() => init = Some(at - started),
            Ok(Event::Next(_)) => {
                // The answer is in and the runtime waits for the next event: idle.
                let rss_kib = vm_rss_kib(child.0.id())?;
                let (Some(init), Some((at, body))) = (init, answered) else {
                    bail!("asked for a second event without answering the first");
                };
                let body: String = body;
                if !body.contains(expect) {
                    bail!("unexpected answer: {}", body.trim());
                }
                return Ok(Measured {
                    init,
                    answered: at - started,
                    rss_kib,
                });
            }
            Ok(Event::Response(at, id, body)) => {
                if id != request_id {
                    bail!("answered request {id}, not {request_id}");
                }
                answered = Some((at, body));
            }
            Ok(Event::Error(what)) => bail!("reported an error: {what}"),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(status) = child.0.try_wait()? {
                    bail!("exited with {status}");
                }
            }
            Err(RecvTimeoutError::Disconnected) => bail!("the emulator stopped"),
        }
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/<pid>/status")
}

/// What the emulator saw, with the instant it had the whole request.
enum Event {
    Next(Instant),
    Response(Instant, String, String),
    Error(String),
}

/// The Lambda Runtime API, just enough for one invocation: the first `GET .../invocation/next` gets the event,
/// later ones are reported and never answered (the function stays idle until it is killed).
struct Emulator {
    port: u16,
    events: Receiver<Event>,
    stop: Arc<AtomicBool>,
}

struct Shared {
    event: String,
    request_id: String,
    function_arn: String,
    served: AtomicBool,
    tx: Mutex<Sender<Event>>,
}

impl Emulator {
    fn start(event: String, request_id: String, function: &str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            event,
            request_id,
            function_arn: format!(
                "arn:aws:lambda:{}:000000000000:function:{function}",
                stack::REGION
            ),
            served: AtomicBool::new(false),
            tx: Mutex::new(tx),
        });
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        Ok(Self { port, events, stop })
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// Serves one keep-alive connection until the peer closes it.
fn serve(stream: TcpStream, shared: &Shared) -> Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let (mut length, mut chunked) = (0usize, false);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        let body = if chunked {
            read_chunked(&mut reader)?
        } else {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            body
        };
        let at = Instant::now();
        let body = String::from_utf8_lossy(&body).into_owned();
        let send = |event: Event| {
            let _ = shared.tx.lock().map(|tx| tx.send(event));
        };
        const NEXT: &str = "/2018-06-01/runtime/invocation/next";
        const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
        if method == "GET" && target == NEXT {
            send(Event::Next(at));
            if shared.served.swap(true, Ordering::SeqCst) {
                continue; // never answered: the function idles here
            }
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() + 30_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: {}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: {}\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-6752b1a0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1\r\n\
                 Content-Length: {}\r\n\r\n",
                shared.request_id,
                shared.function_arn,
                shared.event.len()
            );
            writer.write_all(format!("{head}{}", shared.event).as_bytes())?;
        } else if let Some(rest) = target.strip_prefix(INVOCATION)
            && method == "POST"
        {
            match rest.split_once('/') {
                Some((id, "response")) => send(Event::Response(at, id.to_owned(), body)),
                _ => send(Event::Error(format!("{target}: {body}"))),
            }
            accepted(&mut writer)?;
        } else {
            send(Event::Error(format!("{method} {target}: {body}")));
            accepted(&mut writer)?;
        }
    }
}

fn accepted(writer: &mut TcpStream) -> Result<()> {
    let body = r#"{"status":"OK"}"#;
    writer.write_all(
        format!(
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    Ok(())
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)?;
        let mut chunk = vec![0; size + 2]; // and its CRLF
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// p50/p99 of authenticated `GET /orders` through the gateway at each concurrency.
fn warm_latency(stack: &stack::Stack) -> Result<()> {
    let token = sign_in(stack)?;
    let gateway = stack.gateway_url.clone();
    let authorization = format!("Bearer {token}");
    for _ in 0..WARM_UP {
        get_orders(&gateway, &authorization)?;
    }
    println!(
        "\nwarm latency: GET /orders with the demo user's ID token (moto InitiateAuth USER_PASSWORD_AUTH) through"
    );
    println!(
        "the local gateway -> cargo lambda watch -> get-orders, which runs as a DEBUG build (cargo lambda watch"
    );
    println!(
        "runs `cargo run`), against the fresh bench_coldstart database (the demo user has no orders: an empty"
    );
    println!(
        "list). {REQUESTS} requests per level after {WARM_UP} unmeasured ones; each client sends one request at a time,"
    );
    println!(
        "one HTTP/1.0 connection per request (loopback connect included); every answer must be 200.\n"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>11}",
        "clients", "p50", "p99", "max", "requests/s"
    );
    for clients in CONCURRENCY {
        let next = AtomicUsize::new(0);
        let latencies = Mutex::new(Vec::with_capacity(REQUESTS));
        let started = Instant::now();
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..clients)
                .map(|_| {
                    s.spawn(|| -> Result<()> {
                        while next.fetch_add(1, Ordering::SeqCst) < REQUESTS {
                            let took = get_orders(&gateway, &authorization)?;
                            latencies
                                .lock()
                                .map_err(|_| anyhow::anyhow!("poisoned"))?
                                .push(took.as_secs_f64() * 1000.0);
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("client thread"))
                .collect()
        });
        let elapsed = started.elapsed();
        results.into_iter().collect::<Result<Vec<()>>>()?;
        let mut v = latencies
            .into_inner()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        v.sort_by(f64::total_cmp);
        println!(
            "{:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>11.1}",
            clients,
            p(&v, 50.0),
            p(&v, 99.0),
            v.last().copied().unwrap_or(f64::NAN),
            v.len() as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn get_orders(gateway: &str, authorization: &str) -> Result<Duration> {
    let started = Instant::now();
    let reply = http::send(
        "GET",
        &format!("{gateway}/orders"),
        &[("Authorization", authorization)],
        "",
        REQUEST_TIMEOUT,
    )?;
    let took = started.elapsed();
    if reply.status != 200 {
        bail!(
            "GET /orders answered {}: {}",
            reply.status,
            reply.body.trim()
        );
    }
    Ok(took)
}

/// The demo user's ID token from moto's Cognito.
fn sign_in(stack: &stack::Stack) -> Result<String> {
    let body = format!(
        r#"{{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"{}","AuthParameters":{{"USERNAME":"{DEMO_USERNAME}","PASSWORD":"{DEMO_PASSWORD}"}}}}"#,
        stack.client_id
    );
    let reply = http::send(
        "POST",
        &format!("{}/", stack.aws_endpoint),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            (
                "X-Amz-Target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            ),
        ],
        &body,
        REQUEST_TIMEOUT,
    )?;
    if reply.status != 200 {
        bail!("InitiateAuth answered {}: {}", reply.status, reply.body);
    }
    let answer = reply.body;
    let after = answer
        .split_once("\"IdToken\"")
        .map(|(_, rest)| rest)
        .context("InitiateAuth returned no IdToken")?;
    let token = after
        .trim_start()
        .strip_prefix(':')
        .map(str::trim_start)
        .and_then(|v| v.strip_prefix('"'))
        .and_then(|v| v.split('"').next())
        .context("IdToken is not a string")?;
    Ok(token.to_owned())
}
