//! A scripted local HTTP server that fails, stalls and answers garbage on
//! purpose, for testing the client (and tools using it) against real sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// 200 with this JSON body.
    Answer(String),
    /// This HTTP status with an empty body.
    Status(u16),
    /// Wait this long before answering 200 with the body.
    Stall(Duration, String),
    /// 200 with a body that is not JSON.
    Garbage,
    /// These bytes instead of an HTTP response.
    NotHttp(String),
}

/// The server; its behaviors are used in order, the last one repeating.
pub struct TestServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// A request as received.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The request line, then the header lines with names in lowercase
    /// (`authorization: Bearer x`).
    pub headers: Vec<String>,
    pub body: String,
}

impl TestServer {
    pub fn start(script: Vec<Behavior>) -> TestServer {
        assert!(!script.is_empty(), "a script needs at least one behavior");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!(
            "http://{}/classify",
            listener.local_addr().expect("local addr")
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (thread_hits, thread_requests) = (hits.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = thread_hits.fetch_add(1, Ordering::SeqCst);
                let behavior = script[n.min(script.len() - 1)].clone();
                let requests = thread_requests.clone();
                std::thread::spawn(move || serve(stream, behavior, &requests));
            }
        });
        TestServer {
            url,
            hits,
            requests,
        }
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// Request bodies received so far.
    pub fn bodies(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.body).collect()
    }
}

fn serve(stream: TcpStream, behavior: Behavior, requests: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut content_length = 0usize;
    let mut headers = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if line == "\r\n" {
            break;
        }
        let header = match line.split_once(':') {
            Some((name, value)) => format!("{}: {}", name.to_ascii_lowercase(), value.trim()),
            None => line.trim_end().to_string(),
        };
        if let Some(v) = header.strip_prefix("content-length: ") {
            content_length = v.parse().unwrap_or(0);
        }
        headers.push(header);
        line.clear();
    }
    let mut body = vec![0u8; content_length];
    let _ = reader.read_exact(&mut body);
    requests.lock().expect("requests lock").push(Request {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut stream = stream;
    let (status, body) = match behavior {
        Behavior::Answer(b) => (200, b),
        Behavior::Status(s) => (s, String::new()),
        Behavior::Stall(d, b) => {
            std::thread::sleep(d);
            (200, b)
        }
        Behavior::Garbage => (200, "<html>oops</html>".to_string()),
        Behavior::NotHttp(bytes) => {
            let _ = stream.write_all(bytes.as_bytes());
            return;
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
