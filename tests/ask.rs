//! `trove ask` against an OpenAI-compatible chat endpoint on loopback (an axum server in the
//! test that records what it is sent and streams a canned answer): the prompt carries the
//! retrieved passages, the streamed answer and its citations come out, follow-ups carry the
//! last turns, a rate limit is waited out, a dead endpoint or none at all still shows the
//! passages, and nothing relevant means "I don't know" without asking the model.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use trove_tests::{sample_library, Sandbox};

#[derive(Default)]
struct Endpoint {
    /// Request bodies received, and their Authorization headers.
    requests: Mutex<Vec<(Value, Option<String>)>>,
    /// Answer the first this-many requests with 429 (Retry-After: 1).
    busy: Mutex<u32>,
    /// The answer streamed, in pieces.
    answer: Vec<&'static str>,
}

async fn completions(
    State(ep): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    ep.requests
        .lock()
        .unwrap()
        .push((serde_json::from_str(&body).unwrap(), auth));
    {
        let mut busy = ep.busy.lock().unwrap();
        if *busy > 0 {
            *busy -= 1;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                r#"{"error":{"message":"slow down"}}"#,
            )
                .into_response();
        }
    }
    let mut sse = String::new();
    sse.push_str("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n");
    for piece in &ep.answer {
        let chunk = serde_json::json!({ "choices": [{ "delta": { "content": piece } }] });
        sse.push_str(&format!("data: {chunk}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], sse).into_response()
}

/// Serves the endpoint on loopback; returns its base address (`…/v1`).
fn serve(ep: Arc<Endpoint>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new()
                .route("/v1/chat/completions", post(completions))
                .with_state(ep);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}/v1")
}

fn library() -> Sandbox {
    let sb = sample_library();
    sb.ok(&["add", sb.files().to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    sb
}

fn endpoint(answer: Vec<&'static str>) -> Arc<Endpoint> {
    Arc::new(Endpoint {
        answer,
        ..Default::default()
    })
}

fn stdout_stderr(sb: &Sandbox, args: &[&str]) -> (Option<i32>, String, String) {
    let o = sb.run(args);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn answers_stream_with_citations_and_follow_ups_carry_the_last_turns() {
    let sb = library();
    let ep = endpoint(vec![
        "The grey heron ",
        "waits in the tidal marsh ",
        "at dawn [1].",
    ]);
    let url = serve(ep.clone());
    sb.ok(&["config", "set", "chat-url", &url]);
    sb.ok(&["config", "set", "chat-model", "tiny-test-model"]);

    let (code, out, err) = stdout_stderr(&sb, &["ask", "where do herons wait?"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.starts_with("The grey heron waits in the tidal marsh at dawn [1]."),
        "{out}"
    );
    assert!(out.contains("Sources:\n  [1] herons.md (f"), "{out}");
    assert!(
        !out.contains("bees.txt"),
        "an uncited passage listed as a source: {out}"
    );

    // What the model was sent: the instructions, the numbered passages, the question.
    let (body, auth) = ep.requests.lock().unwrap()[0].clone();
    assert_eq!(auth, None);
    assert_eq!(body["model"], "tiny-test-model");
    assert_eq!(body["stream"], true);
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["role"], "system");
    assert!(msgs[0]["content"].as_str().unwrap().contains("[1]"));
    let user = msgs.last().unwrap()["content"].as_str().unwrap();
    assert!(user.contains("[1] herons.md\n"), "{user}");
    assert!(
        user.contains("The grey heron waits in the tidal marsh at dawn for fish."),
        "{user}"
    );
    assert!(user.ends_with("Question: where do herons wait?"), "{user}");

    // JSON: the whole outcome.
    let a = sb.json(&["ask", "where do herons wait?"]);
    assert_eq!(
        a["answer"],
        "The grey heron waits in the tidal marsh at dawn [1]."
    );
    assert_eq!(a["cited"], serde_json::json!([1]));
    assert_eq!(a["relevant"], true);
    assert_eq!(a["endpoint"], url.as_str());
    assert_eq!(a["model"], "tiny-test-model");
    assert_eq!(a["passages"][0]["name"], "herons.md");
    assert_eq!(a["passages"][0]["n"], 1);

    // A follow-up sends the last question and answer before the new one.
    sb.ok(&["ask", "--continue", "and what does the heron eat?"]);
    let (body, _) = ep.requests.lock().unwrap().last().unwrap().clone();
    let msgs = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"], "{body}");
    assert_eq!(msgs[1]["content"], "where do herons wait?");
    assert_eq!(
        msgs[2]["content"],
        "The grey heron waits in the tidal marsh at dawn [1]."
    );
    // Without --continue, no earlier turns.
    sb.ok(&["ask", "where do herons wait?"]);
    let (body, _) = ep.requests.lock().unwrap().last().unwrap().clone();
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "{body}");
}

#[test]
fn a_rate_limit_is_waited_out_and_the_key_is_sent_not_shown() {
    let sb = library();
    let ep = endpoint(vec!["Glaciers [1]."]);
    *ep.busy.lock().unwrap() = 1;
    let url = serve(ep.clone());
    sb.ok(&["config", "set", "chat-url", &url]);
    let mut set_key = sb.cmd(&["config", "set", "chat-key", "-"]);
    set_key.stdin(std::process::Stdio::piped());
    let mut child = set_key.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sk-test-secret-123\n")
        .unwrap();
    assert!(child.wait().unwrap().success());

    let (code, out, err) = stdout_stderr(&sb, &["ask", "glaciers moraines"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.starts_with("Glaciers [1]."), "{out}");
    assert!(out.contains("atlas.pdf (f"), "{out}");
    assert!(out.contains(", p. 2)"), "the page of the source: {out}");
    let reqs = ep.requests.lock().unwrap();
    assert_eq!(reqs.len(), 2, "one 429, then the answer");
    assert_eq!(reqs[1].1.as_deref(), Some("Bearer sk-test-secret-123"));
    let list = sb.ok(&["config", "list"]);
    assert!(
        !list.contains("sk-test-secret") && !out.contains("sk-test") && !err.contains("sk-test")
    );
}

#[test]
fn without_an_endpoint_or_with_a_dead_one_the_passages_are_the_answer() {
    let sb = library();
    // None configured.
    let (code, out, err) = stdout_stderr(&sb, &["ask", "where do herons wait?"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.starts_with("Top passages for your question:"), "{out}");
    assert!(out.contains("[1] herons.md (f"), "{out}");
    assert!(
        out.contains("The grey heron waits in the tidal marsh"),
        "{out}"
    );
    assert!(err.contains("trove config set chat-url"), "{err}");
    let a = sb.json(&["ask", "where do herons wait?"]);
    assert_eq!(a["endpoint"], Value::Null);
    assert_eq!(a["answer"], Value::Null);
    assert_eq!(a["error"], Value::Null);
    assert!(!a["passages"].as_array().unwrap().is_empty());

    // One that is not running: said so, passages still shown, exit status 1.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    sb.ok(&[
        "config",
        "set",
        "chat-url",
        &format!("http://127.0.0.1:{port}/v1"),
    ]);
    let (code, out, err) = stdout_stderr(&sb, &["ask", "where do herons wait?"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.contains("herons.md"), "{out}");
    assert!(
        err.contains(&format!(
            "Could not reach the chat endpoint at http://127.0.0.1:{port}/v1"
        )),
        "{err}"
    );
    let a = sb.run(&["--json", "ask", "where do herons wait?"]);
    let a: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert!(
        a["error"].as_str().unwrap().contains("connection refused"),
        "{a}"
    );
    assert_eq!(a["answer"], Value::Null);

    // An address that is not acceptable is refused when it is set.
    let o = sb.run(&["config", "set", "chat-url", "http://192.0.2.7/v1"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("chat endpoint must use https"));
}

#[test]
fn nothing_relevant_means_i_dont_know_without_asking_the_model() {
    let sb = library();
    let ep = endpoint(vec!["Made up [1]."]);
    let url = serve(ep.clone());
    sb.ok(&["config", "set", "chat-url", &url]);
    let (code, out, err) = stdout_stderr(&sb, &["ask", "zeppelin airship mooring procedures"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.starts_with("I don't know: nothing in your library is close to this question."),
        "{out}"
    );
    assert!(!out.contains("Made up"), "{out}");
    assert!(
        ep.requests.lock().unwrap().is_empty(),
        "the model was asked"
    );
    let a = sb.json(&["ask", "zeppelin airship mooring procedures"]);
    assert_eq!(a["relevant"], false);
    assert_eq!(a["answer"], Value::Null);
    // An empty question is refused.
    let o = sb.run(&["ask", "   "]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
}
