//! Integration tests of the server's HTTP edge over raw sockets and real HTTP: how long a connection may
//! dawdle (headers, idle keep-alive, a slow body), the write limits' buckets, and the headers every answer
//! carries.

mod common;

use common::Server;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server whose header and request timeouts are 1 s, so the tests wait seconds, not minutes.
async fn impatient_server() -> Server {
    Server::start_with_env(
        false,
        vec![
            ("LOYALTY_HEADER_TIMEOUT_SECONDS", "1".to_owned()),
            ("LOYALTY_REQUEST_TIMEOUT_SECONDS", "1".to_owned()),
        ],
    )
    .await
}

/// Writes `sent` on a fresh connection, then reads until the server closes it; what was read, and how long
/// the connection lasted. Panics if it is still open after `bound` (generous: the timeouts are 1 s).
async fn held_for(server: &Server, sent: &[u8], bound: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(server.running.addr).await.expect("connect");
    let start = Instant::now();
    stream.write_all(sent).await.expect("write");
    let mut read = Vec::new();
    let closed = tokio::time::timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                // A reset counts as closed, like an orderly end.
                Ok(0) | Err(_) => break,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&read).into_owned();
    assert!(closed.is_ok(), "the connection was still open after {bound:?}; read so far: {text:?}");
    (text, start.elapsed())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = impatient_server().await;
    let (_, lasted) =
        held_for(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(10)).await;
    assert!(lasted >= Duration::from_millis(900), "not before the timeout: {lasted:?}");
    // A connection that sends nothing at all is closed the same way.
    held_for(&server, b"", Duration::from_secs(10)).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = impatient_server().await;
    let (answer, _) =
        held_for(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_times_out() {
    let server = impatient_server().await;
    let sent = b"POST /v1/webhooks/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{\"event\":";
    let mut stream = TcpStream::connect(server.running.addr).await.expect("connect");
    stream.write_all(sent).await.expect("write");
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer within 10 s")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_and_closes_idle_connections() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server =
        Server::start_until(false, vec![("LOYALTY_REQUEST_TIMEOUT_SECONDS", "5".to_owned())], async {
            let _ = stopped.await;
        })
        .await;
    // An idle keep-alive connection (its request answered), and a request whose body is half sent.
    let mut idle = TcpStream::connect(server.running.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).await.expect("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let mut busy = TcpStream::connect(server.running.addr).await.expect("connect");
    let body = br#"{"event":"paid"}"#;
    let head = format!(
        "POST /v1/webhooks/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.expect("write");
    busy.write_all(&body[..4]).await.expect("write");
    // Let the server read the headers and start the request before it is told to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).expect("the server listens for shutdown");
    // The idle connection is closed at once...
    let closed = tokio::time::timeout(Duration::from_secs(3), idle.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "the idle connection was not closed: {closed:?}");
    // ...the request in flight still gets its answer (an unsigned webhook: 401)...
    busy.write_all(&body[4..]).await.expect("write");
    let n = tokio::time::timeout(Duration::from_secs(5), busy.read(&mut buf))
        .await
        .expect("an answer")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // ...and then the server stops, and takes no new connection.
    let task = tokio::time::timeout(Duration::from_secs(5), server.running.task).await;
    assert!(matches!(task, Ok(Ok(Ok(())))), "the server did not stop cleanly: {task:?}");
    assert!(TcpStream::connect(server.running.addr).await.is_err());
}

#[tokio::test]
async fn a_flood_of_anonymous_writes_leaves_the_shoppers_at_that_address_alone() {
    let server = Server::start().await;
    server.load_program(serde_json::json!({})).await;
    let (status, _) = server.webhook(common::paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    // 130 writes from this address with no identity or a forged one: each a 401 until their own bucket is
    // empty, then a 429; none of them spends the signed-in shoppers' bucket of 120.
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..130 {
        let mut request = server
            .client
            .post(server.url("/v1/redemptions"))
            .header("idempotency-key", format!("flood-{i}"))
            .json(&serde_json::json!({"rewardId": "ten-off"}));
        if i % 2 == 0 {
            request = request.header("authorization", "LoyaltyShopper forged");
        }
        *statuses.entry(request.send().await.expect("request").status().as_u16()).or_default() += 1;
    }
    assert_eq!(statuses.get(&401), Some(&30), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&100), "{statuses:?}");
    let (status, body) = server
        .as_shopper(
            reqwest::Method::POST,
            "/v1/redemptions",
            "c1",
            Some("real-1"),
            serde_json::json!({"rewardId": "ten-off"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn shopper_answers_are_never_stored_and_public_ones_may_be() {
    let server = Server::start().await;
    server.load_program(serde_json::json!({})).await;
    let (status, _) = server.webhook(common::paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let no_store = |what: &str, response: &reqwest::Response| {
        assert_eq!(
            response.headers().get("cache-control").map(|v| v.to_str().unwrap_or_default()),
            Some("no-store"),
            "{what} ({})",
            response.status()
        );
    };
    let call = |method: reqwest::Method, path: &str, customer: Option<&str>, key: Option<&str>| {
        let mut request = server.client.request(method, server.url(path));
        if let Some(customer) = customer {
            request = request.header("authorization", server.identity(customer));
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request
    };
    use reqwest::Method;
    let me = call(Method::GET, "/v1/customers/me", Some("c1"), None).send().await.unwrap();
    no_store("customers/me", &me);
    let refused = call(Method::GET, "/v1/customers/me", None, None).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    no_store("a refused customers/me", &refused);
    let redeemed = call(Method::POST, "/v1/redemptions", Some("c1"), Some("r1"))
        .json(&serde_json::json!({"rewardId": "ten-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), reqwest::StatusCode::CREATED);
    no_store("a redemption", &redeemed);
    let code =
        redeemed.json::<serde_json::Value>().await.unwrap()["code"].as_str().unwrap_or_default().to_owned();
    let replayed = call(Method::POST, "/v1/redemptions", Some("c1"), Some("r1"))
        .json(&serde_json::json!({"rewardId": "ten-off"}))
        .send()
        .await
        .unwrap();
    no_store("a replayed redemption", &replayed);
    let birthday = call(Method::PUT, "/v1/customers/me/birthday", Some("c1"), Some("b1"))
        .json(&serde_json::json!({"birthday": "08-31"}))
        .send()
        .await
        .unwrap();
    no_store("a birthday", &birthday);
    let capture = call(Method::POST, "/v1/referrals/capture", Some("c2"), Some("k1"))
        .json(&serde_json::json!({"code": "ABCDEFGH"}))
        .send()
        .await
        .unwrap();
    no_store("a referral capture", &capture);
    let admin = format!("Bearer {}", common::ADMIN_KEY);
    let looked_up = server
        .client
        .get(server.url(&format!("/v1/admin/discount-codes/{code}")))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(looked_up.status(), reqwest::StatusCode::OK);
    no_store("a discount code looked up by the shop", &looked_up);
    let export = server
        .client
        .get(server.url("/v1/admin/customers/c1/export"))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap();
    no_store("a shopper's export", &export);
    // The demo's sign-in answers a signed identity.
    let demo = Server::start_with(true).await;
    let identity = demo.client.get(demo.url("/demo/identity?customer=c1")).send().await.unwrap();
    assert_eq!(identity.status(), reqwest::StatusCode::OK);
    no_store("the demo's signed identity", &identity);
    // The program and catalog are public, and meant to be cached.
    for path in ["/v1/program", "/v1/catalog"] {
        let public = server.client.get(server.url(path)).send().await.unwrap();
        let cache = public.headers()["cache-control"].to_str().unwrap_or_default().to_owned();
        assert!(cache.starts_with("public"), "{path}: {cache}");
    }
}

#[tokio::test]
async fn no_page_the_server_serves_can_be_framed() {
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let server = Server::start_with_env(true, vec![("LOYALTY_STATIC_DIR", www.display().to_string())]).await;
    for path in ["/", "/product.html", "/healthz", "/v1/program", "/no-such-page"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        let policy = response.headers()["content-security-policy"].to_str().unwrap_or_default().to_owned();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        // The rest of the strict policy is still there.
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {policy}");
    }
    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
}

#[tokio::test]
async fn bytes_a_client_writes_in_the_forwarded_header_do_not_hide_the_proxys_hops() {
    let server = Server::start_with_env(
        false,
        vec![
            ("LOYALTY_WRITES_PER_MINUTE_PER_ADDRESS", "1".to_owned()),
            ("LOYALTY_CLIENT_ADDRESS_HEADER", "x-forwarded-for".to_owned()),
            ("LOYALTY_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ],
    )
    .await;
    server.load_program(serde_json::json!({})).await;
    let put = |customer: &str, forwarded: &'static [u8]| {
        server
            .client
            .put(server.url("/v1/customers/me/birthday"))
            .header("authorization", server.identity(customer))
            .header("idempotency-key", "b1")
            .header("x-forwarded-for", reqwest::header::HeaderValue::from_bytes(forwarded).expect("header"))
            .json(&serde_json::json!({"birthday": "08-31"}))
            .send()
    };
    assert_eq!(put("c1", b"198.51.100.7").await.unwrap().status(), reqwest::StatusCode::OK);
    // The same client, who wrote a byte that is not ASCII before the hop the proxy appended: still itself.
    let refused = put("c2", b"\xff\xfe, 198.51.100.7").await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(put("c3", b"198.51.100.8").await.unwrap().status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_stops_reading_an_answer_is_disconnected() {
    // A file larger than what the kernel's socket buffers on both ends can hold, so the server's writes stall.
    let dir = tempfile::tempdir().expect("temp dir");
    let size = 48 << 20;
    std::fs::write(dir.path().join("big.bin"), vec![b'x'; size]).expect("file");
    let server = Server::start_with_env(
        false,
        vec![
            ("LOYALTY_STATIC_DIR", dir.path().display().to_string()),
            ("LOYALTY_WRITE_TIMEOUT_SECONDS", "1".to_owned()),
        ],
    )
    .await;
    let mut stream = TcpStream::connect(server.running.addr).await.expect("connect");
    stream.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    // Read nothing for a while: the server's writes make no progress for longer than its 1 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut read = 0usize;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection was still open; {read} bytes read");
    assert!(read < size, "the whole answer arrived ({read} bytes): the stalled connection was not closed");
}

/// A connection to the server from the loopback address `from` (127.0.0.x: Linux routes all of 127/8 to
/// loopback, so each is a client address of its own).
async fn connect_from(server: &Server, from: [u8; 4]) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(std::net::SocketAddr::from((from, 0))).expect("bind");
    socket.connect(server.running.addr).await.expect("connect")
}

/// Whether the server answers `/healthz` on `stream` (false: it closed the connection unanswered).
async fn answers(mut stream: TcpStream) -> bool {
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.is_err() {
        return false;
    }
    let mut read = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut read)).await;
    done.is_ok() && String::from_utf8_lossy(&read).starts_with("HTTP/1.1 200")
}

#[tokio::test]
async fn one_client_cannot_hold_every_connection() {
    // Connections each kept busy enough not to time out held file descriptors without bound: past the process's
    // limit, accepting failed for every client. Now 3 per address and 5 in all.
    let server = Server::start_with_env(
        false,
        vec![
            ("LOYALTY_MAX_CONNECTIONS", "5".to_owned()),
            ("LOYALTY_MAX_CONNECTIONS_PER_ADDRESS", "3".to_owned()),
        ],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(&server, [127, 0, 0, 1]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // the server has accepted them
    assert!(
        !answers(connect_from(&server, [127, 0, 0, 1]).await).await,
        "a fourth from that address is closed"
    );
    assert!(answers(connect_from(&server, [127, 0, 0, 2]).await).await, "another address is served");
    held.push(connect_from(&server, [127, 0, 0, 2]).await);
    held.push(connect_from(&server, [127, 0, 0, 3]).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!answers(connect_from(&server, [127, 0, 0, 4]).await).await, "past 5 in all, anyone is closed");
    // A connection given back is a place for the next.
    drop(held.remove(0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(answers(connect_from(&server, [127, 0, 0, 1]).await).await);
}

#[tokio::test]
async fn a_file_goes_compressed_to_a_browser_that_takes_it() {
    // The widget's files are served with their precompressed copies (scripts/package.mjs writes `.br` and
    // `.gz`): the wasm crossed the network whole (529 KB where 224 KB would do), and nothing was compressed.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("w.wasm"), b"the whole file, uncompressed").expect("file");
    std::fs::write(dir.path().join("w.wasm.br"), b"brotli bytes").expect("br");
    std::fs::write(dir.path().join("w.wasm.gz"), b"gzip bytes").expect("gz");
    let server =
        Server::start_with_env(false, vec![("LOYALTY_PKG_DIR", dir.path().display().to_string())]).await;
    let get = |encoding: Option<&'static str>| {
        let mut request = server.client.get(server.url("/pkg/w.wasm"));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    for (accepts, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "the whole file, uncompressed"),
    ] {
        let response = get(accepts).await.expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let got = response.headers().get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(got.as_deref(), encoding, "{accepts:?}");
        assert_eq!(response.text().await.expect("body"), body, "{accepts:?}");
    }
}
