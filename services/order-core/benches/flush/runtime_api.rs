//! A Lambda Runtime and Extensions API (std only) that sequences an environment as Lambda does: an event is handed
//! out only once the runtime and every registered extension have asked for their next events, and the extension
//! then gets the event's INVOKE. The instants of every call are kept for the bench.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the environment did, in order of arrival.
#[derive(Default)]
pub struct Seen {
    queued: VecDeque<(String, String)>,
    registered: bool,
    extension_waiting: bool,
    invoke: Option<String>,
    pub runtime_next: Vec<Instant>,
    pub extension_next: Vec<Instant>,
    pub served: Vec<Instant>,
    pub responses: Vec<Instant>,
    pub errors: Vec<String>,
}

/// The server, on a free loopback port.
#[derive(Clone)]
pub struct RuntimeApi {
    pub port: u16,
    shared: Arc<(Mutex<Seen>, Condvar)>,
}

/// One invocation, as the environment went through it.
pub struct Invocation {
    /// Event handed out → response received: what the client waits for.
    pub latency: Duration,
    /// Response received → the runtime and the extension have both asked for their next events: the
    /// environment is still busy (in Lambda it counts against the function's concurrency).
    pub busy_after: Duration,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let api = Self {
            port: listener.local_addr().unwrap().port(),
            shared: Arc::new((Mutex::new(Seen::default()), Condvar::new())),
        };
        let server = api.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || server.serve(stream));
            }
        });
        api
    }

    /// Hands out `event` and waits until the environment is idle again.
    pub fn invoke(&self, id: String, event: String) -> Invocation {
        let (lock, ready) = &*self.shared;
        let mut seen = lock.lock().unwrap();
        let n = seen.served.len();
        seen.queued.push_back((id, event));
        ready.notify_all();
        let timeout = Duration::from_secs(60);
        let idle = |s: &Seen| {
            s.responses.len() > n
                && s.runtime_next.len() > n + 1
                && (!s.registered || s.extension_next.len() > n + 1)
        };
        seen = ready
            .wait_timeout_while(seen, timeout, |s| !idle(s))
            .unwrap()
            .0;
        assert!(
            idle(&seen),
            "invocation {n} did not complete: {:?}",
            seen.errors
        );
        let idle_at = match seen.registered {
            true => seen.runtime_next[n + 1].max(seen.extension_next[n + 1]),
            false => seen.runtime_next[n + 1],
        };
        Invocation {
            latency: seen.responses[n] - seen.served[n],
            busy_after: idle_at - seen.responses[n],
        }
    }

    /// Whether an extension registered.
    pub fn registered(&self) -> bool {
        self.shared.0.lock().unwrap().registered
    }

    fn serve(&self, stream: TcpStream) {
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        while let Some((method, target, body)) = read_request(&mut reader) {
            let at = Instant::now();
            let answer = match (method.as_str(), target.as_str()) {
                ("GET", "/2018-06-01/runtime/invocation/next") => self.next(at),
                ("GET", "/2020-01-01/extension/event/next") => self.extension_next(at),
                ("POST", "/2020-01-01/extension/register") => self.register(),
                ("POST", t) if t.ends_with("/response") => {
                    self.record(|s| s.responses.push(at));
                    (String::new(), r#"{"status":"OK"}"#.to_owned())
                }
                _ => {
                    self.record(|s| s.errors.push(format!("{method} {target}: {body}")));
                    (String::new(), r#"{"status":"OK"}"#.to_owned())
                }
            };
            let (headers, body) = answer;
            let status = if method == "GET" || target.ends_with("register") {
                "200 OK"
            } else {
                "202 Accepted"
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
                body.len()
            );
            if writer
                .write_all(format!("{head}{body}").as_bytes())
                .is_err()
            {
                return;
            }
        }
    }

    fn record(&self, f: impl FnOnce(&mut Seen)) {
        let (lock, ready) = &*self.shared;
        f(&mut lock.lock().unwrap());
        ready.notify_all();
    }

    fn next(&self, at: Instant) -> (String, String) {
        let (lock, ready) = &*self.shared;
        let mut seen = lock.lock().unwrap();
        seen.runtime_next.push(at);
        ready.notify_all();
        let handable = |s: &Seen| !s.queued.is_empty() && (!s.registered || s.extension_waiting);
        seen = ready.wait_while(seen, |s| !handable(s)).unwrap();
        let (id, event) = seen.queued.pop_front().unwrap();
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:flush-bench";
        if seen.registered {
            seen.extension_waiting = false;
            seen.invoke = Some(format!(
                r#"{{"eventType":"INVOKE","deadlineMs":{deadline},"requestId":"{id}","invokedFunctionArn":"{arn}"}}"#
            ));
        }
        seen.served.push(Instant::now());
        ready.notify_all();
        let headers = format!(
            "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: {arn}\r\n"
        );
        (headers, event)
    }

    fn extension_next(&self, at: Instant) -> (String, String) {
        let (lock, ready) = &*self.shared;
        let mut seen = lock.lock().unwrap();
        seen.extension_next.push(at);
        seen.extension_waiting = true;
        ready.notify_all();
        seen = ready.wait_while(seen, |s| s.invoke.is_none()).unwrap();
        let invoke = seen.invoke.take().unwrap();
        (
            "Lambda-Extension-Event-Identifier: bench\r\n".to_owned(),
            invoke,
        )
    }

    fn register(&self) -> (String, String) {
        self.record(|s| s.registered = true);
        (
            "Lambda-Extension-Identifier: bench-extension\r\n".to_owned(),
            r#"{"functionName":"flush-bench","functionVersion":"$LATEST","handler":"bootstrap"}"#
                .to_owned(),
        )
    }
}

/// The next request on a keep-alive connection: method, target, body; `None` once the peer has closed it.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some((method, target, String::from_utf8_lossy(&body).into_owned()))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2]; // and its CRLF
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}
