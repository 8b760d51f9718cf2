//! OTLP/HTTP collectors on loopback with an injected delay: each counts the bench's spans as their request
//! arrives, then answers 200 after the delay; the black hole accepts connections and never reads or answers.

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::runtime_api::read_request;

/// How the collector answers an export request.
#[derive(Clone, Copy)]
pub enum Answer {
    After(Duration),
    Never,
}

pub struct Collector {
    pub endpoint: String,
    spans: Arc<AtomicUsize>,
}

impl Collector {
    /// Starts a collector counting the spans whose name contains `marker`.
    pub fn start(answer: Answer, marker: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let spans = Arc::new(AtomicUsize::new(0));
        let counter = spans.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                let Answer::After(delay) = answer else {
                    held.push(stream); // never read, never answered
                    continue;
                };
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    while let Some((_, _, body)) = read_request(&mut reader) {
                        counter.fetch_add(body.matches(marker).count(), Ordering::SeqCst);
                        std::thread::sleep(delay);
                        let answered = writer.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                        );
                        if answered.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { endpoint, spans }
    }

    /// The bench's spans received so far.
    pub fn spans(&self) -> usize {
        self.spans.load(Ordering::SeqCst)
    }
}
