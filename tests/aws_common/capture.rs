//! An HTTP server that records each request and answers every one the same way, to see what the
//! provider sends (headers, signing scope) without a real IAM.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One recorded request: lower-cased header names and the body.
#[derive(Debug, Clone)]
pub struct Seen {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// The server; it stops serving when the test process ends.
pub struct Capture {
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Capture {
    /// Answers every request with `status` and the XML `body`.
    pub fn start(status: u16, body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or_default();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut request_body = vec![0; length];
                let _ = reader.read_exact(&mut request_body);
                record.lock().unwrap().push(Seen {
                    headers,
                    body: String::from_utf8_lossy(&request_body).into_owned(),
                });
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Capture { url, seen }
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// An IAM error document with `code`.
pub fn iam_error(code: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>test</Message></Error>\
         <RequestId>r</RequestId></ErrorResponse>"
    )
}
