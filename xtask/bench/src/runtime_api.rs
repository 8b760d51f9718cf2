//! A minimal Lambda Runtime API server (std only) for exactly one invocation, so a release binary can be run
//! and timed as Lambda runs it, without `cargo lambda watch` (which starts functions with `cargo run`).
//!
//! The first `GET .../invocation/next` gets the event; later ones are reported and never answered, so the
//! function stays idle until it is killed. Everything the function sends is reported as an [`Event`] with the
//! instant the whole request had arrived.
//!
//! An internal extension may register (the functions register their span export extension at init, as Lambda
//! allows); its `GET .../extension/event/next` is never answered: one cold start needs no export.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const REGISTER: &str = "/2020-01-01/extension/register";
const EXTENSION_NEXT: &str = "/2020-01-01/extension/event/next";

/// What the function did.
pub enum Event {
    /// It asked for the next event; for the first one, the CPU time its process had used by then (all threads,
    /// exited ones included), read before the event is sent: its init's CPU.
    Next(Instant, Option<Duration>),
    /// It answered request `id` with `body`.
    Response(Instant, String, String),
    /// It reported an error, or called something this server does not serve.
    Error(String),
}

/// The server, on a free loopback port until dropped.
pub struct RuntimeApi {
    pub port: u16,
    /// What the function did, in order.
    pub events: Receiver<Event>,
    stop: Arc<AtomicBool>,
    invocation: Arc<Invocation>,
}

/// The one invocation served, and where reports go.
struct Invocation {
    event: String,
    request_id: String,
    function_arn: String,
    served: AtomicBool,
    /// The function's process id, once it is spawned (0 before).
    pid: AtomicU32,
    tx: Mutex<Sender<Event>>,
}

impl RuntimeApi {
    /// Serves `event` as request `request_id` of the function `function_arn`.
    pub fn start(event: String, request_id: String, function_arn: String) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let invocation = Arc::new(Invocation {
            event,
            request_id,
            function_arn,
            served: AtomicBool::new(false),
            pid: AtomicU32::new(0),
            tx: Mutex::new(tx),
        });
        let serving = Arc::clone(&invocation);
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let invocation = Arc::clone(&serving);
                std::thread::spawn(move || {
                    let _ = serve(stream, &invocation);
                });
            }
        });
        Ok(Self {
            port,
            events,
            stop,
            invocation,
        })
    }

    /// The function's process, whose CPU time the first `.../next` reads.
    pub fn watch_pid(&self, pid: u32) {
        self.invocation.pid.store(pid, Ordering::SeqCst);
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

impl Invocation {
    fn report(&self, event: Event) {
        let _ = self.tx.lock().map(|tx| tx.send(event));
    }
}

/// One parsed request.
struct Request {
    method: String,
    target: String,
    body: String,
}

/// Serves one keep-alive connection until the peer closes it.
fn serve(stream: TcpStream, invocation: &Invocation) -> Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let at = Instant::now();
        let Request {
            method,
            target,
            body,
        } = request;
        if method == "GET" && target == NEXT {
            if !invocation.served.swap(true, Ordering::SeqCst) {
                let cpu = process_cpu(invocation.pid.load(Ordering::SeqCst));
                invocation.report(Event::Next(at, cpu));
                send_event(&mut writer, invocation)?;
            } else {
                invocation.report(Event::Next(at, None));
            } // later ones are never answered: the function idles here
        } else if method == "POST" && target == REGISTER {
            registered(&mut writer, invocation)?;
        } else if method == "GET" && target == EXTENSION_NEXT {
            // never answered: the extension idles with the function
        } else if let Some(rest) = target.strip_prefix(INVOCATION)
            && method == "POST"
        {
            invocation.report(match rest.split_once('/') {
                Some((id, "response")) => Event::Response(at, id.to_owned(), body),
                _ => Event::Error(format!("{target}: {body}")),
            });
            accepted(&mut writer)?;
        } else {
            invocation.report(Event::Error(format!("{method} {target}: {body}")));
            accepted(&mut writer)?;
        }
    }
    Ok(())
}

/// The CPU time process `pid` has used so far, all its threads (`clock_getcpuclockid`); `None` if it is gone.
fn process_cpu(pid: u32) -> Option<Duration> {
    if pid == 0 {
        return None;
    }
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid, writable clockid_t; an unknown pid only makes the call fail.
    if unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) } != 0 {
        return None;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; `clock` came from the kernel just above.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// The next request on the connection, `None` once the peer has closed it.
fn read_request(reader: &mut BufReader<TcpStream>) -> Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok(Some(Request {
        method,
        target,
        body,
    }))
}

fn send_event(writer: &mut TcpStream, invocation: &Invocation) -> Result<()> {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() + 30_000;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Aws-Request-Id: {}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
         Lambda-Runtime-Invoked-Function-Arn: {}\r\n\
         Lambda-Runtime-Trace-Id: Root=1-6752b1a0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1\r\n\
         Content-Length: {}\r\n\r\n",
        invocation.request_id,
        invocation.function_arn,
        invocation.event.len()
    );
    writer.write_all(format!("{head}{}", invocation.event).as_bytes())?;
    Ok(())
}

/// Registers an extension: its id, and the function it belongs to.
fn registered(writer: &mut TcpStream, invocation: &Invocation) -> Result<()> {
    let name = invocation
        .function_arn
        .rsplit(':')
        .next()
        .unwrap_or_default();
    let body =
        format!(r#"{{"functionName":"{name}","functionVersion":"$LATEST","handler":"bootstrap"}}"#);
    writer.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Lambda-Extension-Identifier: xtask-extension\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    Ok(())
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
