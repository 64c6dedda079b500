//! The local server over real HTTP: a server on a free port, and raw HTTP/1.1 exchanges written
//! byte for byte (so a test can send what no well-behaved client would: no `Content-Length`,
//! invalid UTF-8 in a header, a head of 100 KB).

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::TestStack;

/// A response as read off the connection.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The status line and headers, lowercased.
    pub headers: String,
    /// The body as JSON; `Null` if empty or not JSON.
    pub body: Value,
}

/// Serves the local API on this stack's table, on a free port; returns its address.
pub async fn start(stack: &TestStack) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(local_api::serve(listener, stack.services(7)));
    address
}

/// One HTTP/1.1 exchange over a fresh connection, exactly as written. The server may answer
/// and close before it has read everything (a body over the limit): failing writes are
/// ignored, and a reset after the answer arrived ends the read.
pub async fn exchange(address: &str, head: impl AsRef<[u8]>, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut request = head.as_ref().to_vec();
    request.extend_from_slice(body);
    stream.write_all(&request).await.ok();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
            Err(_) if !raw.is_empty() => break,
            Err(error) => panic!("no answer from {address}: {error}"),
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (headers, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    Reply {
        status: headers[9..12].parse().unwrap(),
        headers: headers.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// A request as a client sends it: a bearer key, a JSON body with its length, and
/// `connection: close`.
pub async fn call(
    address: &str,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> Reply {
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    exchange(address, &head, body.as_bytes()).await
}

/// Asserts an answer is the error envelope with `status` and `code`; returns its body.
pub fn assert_error(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status, status, "{}\n{}", reply.headers, reply.body);
    assert!(
        reply.headers.contains("content-type: application/json"),
        "{}",
        reply.headers
    );
    assert_eq!(reply.body["success"], false, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
    assert!(reply.body["error"]["details"].is_array(), "{}", reply.body);
    reply.body.clone()
}
