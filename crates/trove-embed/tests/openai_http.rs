//! OpenAiCompatible against a real HTTP server on 127.0.0.1 (axum, started here) that
//! speaks /v1/embeddings and computes vectors with LocalMiniLm.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::{cosine, model};
use serde_json::{json, Value};
use trove_embed::{EmbedError, Embedder, OpenAiCompatible, OpenAiConfig};

const KEY: &str = "sk-test-123";

#[derive(Clone, Default)]
struct Server {
    /// Arrival time and number of inputs of each accepted request.
    log: Arc<Mutex<Vec<(Instant, usize)>>>,
    /// Answer the next N requests with 429.
    throttle: Arc<AtomicUsize>,
}

async fn embeddings(
    State(s): State<Server>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})),
        )
            .into_response();
    }
    if s.throttle.load(Ordering::SeqCst) > 0 {
        s.throttle.fetch_sub(1, Ordering::SeqCst);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"error": {"message": "Rate limit reached", "type": "requests"}})),
        )
            .into_response();
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("7"));
        return r;
    }
    if body["model"] != "all-minilm" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "unknown model"}})),
        )
            .into_response();
    }
    if body["input"] == "boom" || body["input"][0] == "boom" {
        return (StatusCode::BAD_GATEWAY, "upstream down").into_response();
    }
    let texts: Vec<String> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    s.log.lock().unwrap().push((Instant::now(), texts.len()));
    let vectors = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        model().embed(&refs).unwrap()
    })
    .await
    .unwrap();
    // Reverse the order in the response: clients must use `index`.
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v}))
        .collect();
    Json(json!({"object": "list", "model": "all-minilm", "data": data})).into_response()
}

/// Starts the server on a background thread; returns its address.
fn start(server: Server) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new()
                .route("/v1/embeddings", post(embeddings))
                .with_state(server);
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn config(addr: SocketAddr) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("http://{addr}/v1"),
        api_key: Some(KEY.to_string()),
        model: "all-minilm".to_string(),
        requests_per_minute: 0,
        tokens_per_minute: 0,
        timeout: Duration::from_secs(60),
    }
}

#[test]
fn vectors_equal_local_ones() {
    let server = Server::default();
    let addr = start(server.clone());
    let p = OpenAiCompatible::new(config(addr)).unwrap();
    assert_eq!(p.model_id(), format!("openai:all-minilm@{addr}"));
    assert_eq!(p.dims(), 0);
    let texts: Vec<String> = (0..40)
        .map(|i| format!("document number {i} talks about topic {}", i % 7))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let remote = p.embed(&refs).unwrap();
    let local = model().embed(&refs).unwrap();
    assert_eq!(remote.len(), 40);
    assert_eq!(p.dims(), 384);
    for (r, l) in remote.iter().zip(&local) {
        assert!(cosine(r, l) >= 0.9999, "{}", cosine(r, l));
    }
    // 40 texts → two requests (32 + 8).
    let sizes: Vec<usize> = server.log.lock().unwrap().iter().map(|e| e.1).collect();
    assert_eq!(sizes, vec![32, 8]);
    assert_eq!(p.probe().unwrap(), 384);
}

#[test]
fn too_many_requests_is_transient_with_retry_after() {
    let server = Server::default();
    server.throttle.store(1, Ordering::SeqCst);
    let addr = start(server.clone());
    let p = OpenAiCompatible::new(config(addr)).unwrap();
    let err = p.embed(&["hello"]).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.to_string().contains("429"), "{err}");
    // The next one goes through.
    assert_eq!(p.embed(&["hello"]).unwrap().len(), 1);
}

#[test]
fn bad_key_is_permanent_and_readable() {
    let addr = start(Server::default());
    let mut cfg = config(addr);
    cfg.api_key = Some("sk-wrong".into());
    let err = OpenAiCompatible::new(cfg)
        .unwrap()
        .embed(&["hello"])
        .unwrap_err();
    assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
    assert!(!err.is_transient());
    let msg = err.to_string();
    assert!(
        msg.contains("401")
            && msg.contains("API key")
            && msg.contains("Incorrect API key provided"),
        "{msg}"
    );

    let mut cfg = config(addr);
    cfg.model = "nope".into();
    let err = OpenAiCompatible::new(cfg)
        .unwrap()
        .embed(&["hello"])
        .unwrap_err();
    assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown model"), "{err}");
}

#[test]
fn server_errors_and_unreachable_are_transient() {
    let addr = start(Server::default());
    let p = OpenAiCompatible::new(config(addr)).unwrap();
    let err = p.embed(&["boom"]).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("502"), "{err}");

    // Nothing listens there (bind then drop to get a free port).
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = OpenAiCompatible::new(config(free))
        .unwrap()
        .embed(&["x"])
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    // A server that accepts but never answers: timeout → transient.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = config(silent.local_addr().unwrap());
    cfg.timeout = Duration::from_millis(300);
    let t = Instant::now();
    let err = OpenAiCompatible::new(cfg)
        .unwrap()
        .embed(&["x"])
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[test]
fn rate_limiter_spaces_requests() {
    let server = Server::default();
    let addr = start(server.clone());
    let mut cfg = config(addr);
    cfg.requests_per_minute = 300; // one every 200 ms
    let p = OpenAiCompatible::new(cfg).unwrap();
    let t = Instant::now();
    for i in 0..5 {
        p.embed(&[&format!("ping {i}")]).unwrap();
    }
    let elapsed = t.elapsed();
    let log = server.log.lock().unwrap();
    assert_eq!(log.len(), 5);
    for w in log.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            gap >= Duration::from_millis(190),
            "requests only {gap:?} apart"
        );
    }
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");
}

// --- Credentials, body caps, failed probes -------------------------------------------

const USER: &str = "bobuser";
const PASSWORD: &str = "hunter2pw";
const QUERY_SECRET: &str = "qsecret789";
const KEY_SECRET: &str = "sk-keysecret456";
/// Test vectors' length in the echo server.
const ECHO_DIMS: usize = 8;

/// Every form a credential of the tests could take in a message.
fn leaked(text: &str) -> Option<String> {
    // base64("bobuser:hunter2pw"): the basic-auth token.
    let basic = "Ym9idXNlcjpodW50ZXIycHc=";
    [PASSWORD, QUERY_SECRET, KEY_SECRET, basic]
        .into_iter()
        .find(|s| text.contains(s))
        .map(str::to_string)
}

fn assert_no_secret(err: &EmbedError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            leaked(&text).is_none(),
            "secret {:?} in {text}",
            leaked(&text)
        );
    }
}

/// Answers `POST /{mode}/v1/embeddings` by mode, echoing the request's credentials
/// (Authorization header, URL with its query string) wherever it can:
/// `unauthorized` → 401, `broken` → 500, `garbage` → 200 with the credentials where a
/// vector should be, `moved` → 307 to another host, `slow` → answers after 3 s, `ok` → vectors of ECHO_DIMS; while
/// `down` > 0 every request gets a 503 (and decrements it).
async fn echo(
    State(down): State<Arc<AtomicUsize>>,
    axum::extract::Path(mode): axum::extract::Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let echoed = format!("{auth} for {uri}");
    if down
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("loading model; {echoed}"),
        )
            .into_response();
    }
    match mode.as_str() {
        "unauthorized" => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": format!("Incorrect API key provided: {echoed}")}})),
        )
            .into_response(),
        "broken" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error\n{echoed}"),
        )
            .into_response(),
        "garbage" => Json(json!({"data": [{"embedding": echoed}]})).into_response(),
        "moved" => {
            let mut r = (StatusCode::TEMPORARY_REDIRECT, echoed).into_response();
            r.headers_mut().insert(
                "location",
                HeaderValue::from_str(&format!("http://example.com{uri}")).unwrap(),
            );
            r
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"data": []})).into_response()
        }
        _ => {
            let n = body["input"].as_array().map_or(0, Vec::len);
            let data: Vec<Value> = (0..n)
                .map(|i| {
                    let mut v = vec![0.0f32; ECHO_DIMS];
                    v[i % ECHO_DIMS] = 2.0;
                    json!({"index": i, "embedding": v})
                })
                .collect();
            Json(json!({"data": data})).into_response()
        }
    }
}

/// The echo server on `bind` (e.g. "127.0.0.1:0"); returns its address.
fn start_echo(bind: String, down: Arc<AtomicUsize>) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new()
                .route("/{mode}/v1/embeddings", post(echo))
                .with_state(down);
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A configuration full of secrets: user:password and a query-string key in the URL,
/// and (when `key`) an API key.
fn secret_config(addr: SocketAddr, mode: &str, key: bool) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("http://{USER}:{PASSWORD}@{addr}/{mode}/v1?api-key={QUERY_SECRET}"),
        api_key: key.then(|| KEY_SECRET.to_string()),
        model: "m".to_string(),
        requests_per_minute: 0,
        tokens_per_minute: 0,
        timeout: Duration::from_secs(30),
    }
}

#[test]
fn credentials_never_appear_in_errors() {
    let addr = start_echo("127.0.0.1:0".into(), Arc::default());
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for key in [true, false] {
        // The server does receive the credentials (so its echoes are real).
        let ok = OpenAiCompatible::new(secret_config(addr, "ok", key)).unwrap();
        assert_eq!(ok.embed(&["a"]).unwrap()[0].len(), ECHO_DIMS);
        assert!(leaked(&format!("{ok:?}")).is_none(), "{ok:?}");
        let cfg = secret_config(addr, "ok", key);
        assert!(leaked(&format!("{cfg:?}")).is_none(), "{cfg:?}");

        let embed = |addr: SocketAddr, mode: &str, timeout: Duration| {
            let mut cfg = secret_config(addr, mode, key);
            cfg.timeout = timeout;
            OpenAiCompatible::new(cfg)
                .unwrap()
                .embed(&["hello"])
                .unwrap_err()
        };
        let long = Duration::from_secs(30);

        let err = embed(free, "ok", long);
        assert!(err.is_transient(), "{err:?}");
        assert!(err.to_string().starts_with("Could not reach"), "{err}");
        assert_no_secret(&err);

        let err = embed(addr, "unauthorized", long);
        assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("401") && msg.contains("API key"), "{msg}");
        // The echo is there, its secrets hidden.
        let echo = if key { "Bearer ***" } else { "Basic ***" };
        assert!(
            msg.contains(&format!("{echo} for /unauthorized/v1/embeddings?***")),
            "{msg}"
        );
        assert_no_secret(&err);

        let err = embed(addr, "broken", long);
        assert!(err.is_transient(), "{err:?}");
        assert!(err.to_string().contains("HTTP 500"), "{err}");
        assert_no_secret(&err);

        let err = embed(addr, "garbage", long);
        assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
        assert!(err.to_string().contains("cannot read"), "{err}");
        assert_no_secret(&err);

        // Redirects are not followed (the credentials would go along).
        let err = embed(addr, "moved", long);
        assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
        assert!(err.to_string().contains("does not follow"), "{err}");
        assert_no_secret(&err);

        let t = Instant::now();
        let err = embed(addr, "slow", Duration::from_millis(300));
        assert!(err.is_transient(), "{err:?}");
        assert!(err.to_string().contains("did not answer"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_no_secret(&err);
    }
    // An address refused before anything is sent says so without its secrets.
    let mut cfg = secret_config(addr, "ok", true);
    cfg.base_url = cfg.base_url.replace("127.0.0.1", "ollama.lan");
    let err = OpenAiCompatible::new(cfg).unwrap_err();
    assert!(matches!(err, EmbedError::Config { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("must use https unless it runs on this computer"),
        "{err}"
    );
    assert_no_secret(&err);
}

/// A bare HTTP/1.1 server answering every request with `status` and a body that never
/// ends (a JSON array that keeps growing), up to 256 MiB; the first request gets a
/// proper one-vector answer (3 dimensions) when `first_ok`. `sent` counts body bytes
/// written, `open` the connections still being written to.
struct EndlessServer {
    addr: SocketAddr,
    sent: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
}

const ENDLESS_LIMIT: usize = 256 << 20;

fn endless_server(status: u16, first_ok: bool) -> EndlessServer {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let (sent2, open2) = (sent.clone(), open.clone());
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(conn) = conn else { continue };
            let (sent, open) = (sent2.clone(), open2.clone());
            open.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                let mut w = conn;
                if first_ok && n == 0 {
                    let body = r#"{"data":[{"index":0,"embedding":[1,2,3]}]}"#;
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                } else {
                    let _ = write!(
                        w,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         connection: close\r\n\r\n{{\"data\":[{{\"embedding\":["
                    );
                    let chunk = "0.125,".repeat((64 << 10) / 6);
                    let mut total = 0;
                    while total < ENDLESS_LIMIT {
                        if w.write_all(chunk.as_bytes()).is_err() {
                            break;
                        }
                        total += chunk.len();
                        sent.fetch_add(chunk.len(), Ordering::SeqCst);
                    }
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    EndlessServer { addr, sent, open }
}

impl EndlessServer {
    /// Waits (up to 20 s) until the server stopped writing; returns the bytes it wrote.
    fn sent_when_done(&self) -> usize {
        let t = Instant::now();
        while self.open.load(Ordering::SeqCst) > 0 && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.open.load(Ordering::SeqCst), 0, "server still writing");
        self.sent.load(Ordering::SeqCst)
    }
}

fn plain_config(addr: SocketAddr) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("http://{addr}/v1"),
        api_key: None,
        model: "m".to_string(),
        requests_per_minute: 0,
        tokens_per_minute: 0,
        timeout: Duration::from_secs(30),
    }
}

/// What the kernel may hold in socket buffers beyond what the client read.
const SOCKET_SLACK: usize = 32 << 20;

#[test]
fn endless_body_is_cut_off() {
    let server = endless_server(200, false);
    let p = OpenAiCompatible::new(plain_config(server.addr)).unwrap();
    let err = p.embed(&["x"]).unwrap_err();
    assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 64 MB"), "{err}");
    let sent = server.sent_when_done();
    assert!(
        sent < (64 << 20) + SOCKET_SLACK,
        "server wrote {sent} bytes"
    );
    assert_eq!(p.dims(), 0);
}

#[test]
fn body_cap_follows_the_known_dimension() {
    let server = endless_server(200, true);
    let p = OpenAiCompatible::new(plain_config(server.addr)).unwrap();
    assert_eq!(p.probe().unwrap(), 3);
    // 1 text × 3 dims: about 1 MiB is plenty.
    let err = p.embed(&["x"]).unwrap_err();
    assert!(matches!(err, EmbedError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 1.0 MB"), "{err}");
    let sent = server.sent_when_done();
    assert!(sent < (1 << 20) + SOCKET_SLACK, "server wrote {sent} bytes");
    assert_eq!(p.dims(), 3);
}

#[test]
fn endless_error_body_is_cut_off() {
    let server = endless_server(500, false);
    let p = OpenAiCompatible::new(plain_config(server.addr)).unwrap();
    let err = p.embed(&["x"]).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("HTTP 500"), "{msg}");
    assert!(
        msg.chars().count() < 500,
        "{} characters",
        msg.chars().count()
    );
    let sent = server.sent_when_done();
    assert!(sent < SOCKET_SLACK, "server wrote {sent} bytes");
}

#[test]
fn failed_probe_is_not_remembered() {
    // Nothing listens on the port at first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = plain_config(format!("127.0.0.1:{port}").parse().unwrap());
    cfg.base_url = format!("http://localhost:{port}/ok/v1");
    let p = OpenAiCompatible::new(cfg).unwrap();
    let err = p.probe().unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(p.dims(), 0);

    // The service comes up, still loading: one 503.
    let down = Arc::new(AtomicUsize::new(1));
    start_echo(format!("127.0.0.1:{port}"), down.clone());
    let err = p.probe().unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("503"),
        "{err:?}"
    );
    assert_eq!(down.load(Ordering::SeqCst), 0);
    assert_eq!(p.dims(), 0);

    // Then it answers: the real dimension, and vectors of it.
    assert_eq!(p.probe().unwrap(), ECHO_DIMS);
    assert_eq!(p.dims(), ECHO_DIMS);
    let v = p.embed(&["a", "b", "c"]).unwrap();
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|v| v.len() == ECHO_DIMS));
    assert!((v[1][1] - 1.0).abs() < 1e-6, "normalised: {:?}", v[1]);
}
