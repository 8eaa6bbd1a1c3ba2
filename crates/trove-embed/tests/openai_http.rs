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
