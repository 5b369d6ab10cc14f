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
}

/// The server; its behaviors are used in order, the last one repeating.
pub struct TestServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
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
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (thread_hits, thread_bodies) = (hits.clone(), bodies.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = thread_hits.fetch_add(1, Ordering::SeqCst);
                let behavior = script[n.min(script.len() - 1)].clone();
                let bodies = thread_bodies.clone();
                std::thread::spawn(move || serve(stream, behavior, &bodies));
            }
        });
        TestServer { url, hits, bodies }
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Request bodies received so far.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("bodies lock").clone()
    }
}

fn serve(stream: TcpStream, behavior: Behavior, bodies: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut content_length = 0usize;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0u8; content_length];
    let _ = reader.read_exact(&mut body);
    bodies
        .lock()
        .expect("bodies lock")
        .push(String::from_utf8_lossy(&body).into_owned());
    let (status, body) = match behavior {
        Behavior::Answer(b) => (200, b),
        Behavior::Status(s) => (s, String::new()),
        Behavior::Stall(d, b) => {
            std::thread::sleep(d);
            (200, b)
        }
        Behavior::Garbage => (200, "<html>oops</html>".to_string()),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
