//! `trove mcp` driven by a real MCP client (the official Rust SDK's, over the child's
//! stdio) against a fixture library: tools listed and called, resources listed and read,
//! writes only when allowed, bad requests answered with errors while the server stays up.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use trove_tests::{sample_library, Sandbox};

/// Three documents processed, one failed.
fn library() -> Sandbox {
    let sb = sample_library();
    sb.write("broken.pdf", b"%PDF-1.7\nthis is not a PDF at all");
    sb.ok(&["add", sb.files().to_str().unwrap()]);
    sb.ok(&["work", "--until-idle"]);
    sb
}

async fn client(sb: &Sandbox, args: &[&str]) -> RunningService<RoleClient, ()> {
    let mut a = vec!["mcp"];
    a.extend_from_slice(args);
    let mut cmd = tokio::process::Command::from(sb.cmd(&a));
    cmd.stderr(Stdio::null());
    let transport = TokioChildProcess::new(cmd).expect("start trove mcp");
    ().serve(transport)
        .await
        .expect("MCP handshake with trove mcp")
}

/// The tools the server offers, sorted.
async fn tool_names(c: &RunningService<RoleClient, ()>) -> Vec<String> {
    let mut tools: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    tools.sort();
    tools
}

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    c.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The structured result of a tool that succeeded.
async fn ok(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> Value {
    let r = call(c, tool, args.clone()).await;
    assert_ne!(r.is_error, Some(true), "{tool} {args} failed: {r:?}");
    match r.structured_content {
        Some(v) => v,
        None => panic!("{tool} returned no structured content: {:?}", r.content),
    }
}

/// The text of a tool call that failed (an error result, not a broken connection).
async fn err(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> String {
    let r = call(c, tool, args.clone()).await;
    assert_eq!(r.is_error, Some(true), "{tool} {args} should fail: {r:?}");
    serde_json::to_string(&r.content).unwrap()
}

fn id_of(list: &Value, name: &str) -> String {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))["item"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_and_resources_over_stdio() {
    let sb = library();
    let c = client(&sb, &[]).await;

    let info = c.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("trove")
    );
    let tools = tool_names(&c).await;
    assert_eq!(tools, ["list_items", "read", "search", "status"]);

    // search: hits with the item, its title and path, the passage and a plain snippet.
    let r = ok(&c, "search", json!({ "query": "heron marsh" })).await;
    let hits = r["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{r}");
    let hit = &hits[0];
    assert_eq!(hit["title"], "herons.md", "{r}");
    assert!(hit["location"]
        .as_str()
        .unwrap()
        .ends_with("/files/herons.md"));
    assert!(hit["snippet"].as_str().unwrap().contains("heron"), "{r}");
    assert!(
        !hit["snippet"].as_str().unwrap().contains('\u{2}'),
        "marks left: {r}"
    );
    assert_eq!(r["noCloseMatches"], false);
    let item = hit["item"].as_str().unwrap().to_owned();
    let passage = hit["passage"].as_i64().unwrap();
    // The filters of the search syntax work here too.
    let r = ok(
        &c,
        "search",
        json!({ "query": "type:pdf glaciers", "mode": "keyword" }),
    )
    .await;
    assert_eq!(r["hits"][0]["title"], "atlas.pdf", "{r}");
    assert_eq!(r["hits"][0]["page"], 2, "{r}");
    let r = ok(
        &c,
        "search",
        json!({ "query": "zeppelin", "mode": "keyword" }),
    )
    .await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 0, "{r}");

    // read: a passage in its surroundings, pages, and a span that continues.
    let r = ok(&c, "read", json!({ "item": item, "passage": passage })).await;
    assert!(
        r["text"].as_str().unwrap().contains("grey heron waits"),
        "{r}"
    );
    let list = ok(&c, "list_items", json!({})).await;
    let atlas = id_of(&list, "atlas.pdf");
    let r = ok(&c, "read", json!({ "item": atlas, "page_from": 2 })).await;
    let text = r["text"].as_str().unwrap();
    assert!(
        text.contains("glaciers") && !text.contains("mountains") && !text.contains("deserts"),
        "{r}"
    );
    assert_eq!(
        (
            r["firstPage"].as_u64(),
            r["lastPage"].as_u64(),
            r["pages"].as_u64()
        ),
        (Some(2), Some(2), Some(3))
    );
    let e = err(&c, "read", json!({ "item": atlas, "page_from": 9 })).await;
    assert!(e.contains("3 page(s)"), "{e}");
    let r = ok(&c, "read", json!({ "item": item, "max_chars": 10 })).await;
    assert_eq!(r["text"].as_str().unwrap().chars().count(), 10, "{r}");
    assert_eq!(r["nextOffset"], 10, "{r}");
    assert_eq!(r["truncated"], true, "{r}");
    let r = ok(
        &c,
        "read",
        json!({ "item": item, "offset": 10, "max_chars": 100000 }),
    )
    .await;
    assert!(r["text"].as_str().unwrap().contains("dawn for fish"), "{r}");
    assert!(r.get("nextOffset").is_none(), "{r}");
    // A passage of another item is refused; so is an item that does not exist.
    let e = err(&c, "read", json!({ "item": atlas, "passage": passage })).await;
    assert!(e.contains("not in item"), "{e}");
    let e = err(&c, "read", json!({ "item": "f999" })).await;
    assert!(e.to_lowercase().contains("f999"), "{e}");
    let e = err(&c, "read", json!({ "item": "/etc/passwd" })).await;
    assert!(e.contains("not an item id"), "{e}");

    // list_items: statuses, kinds, paging.
    assert_eq!(list["items"].as_array().unwrap().len(), 4, "{list}");
    let failed = ok(&c, "list_items", json!({ "status": "failed" })).await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed["items"][0]["title"], "broken.pdf");
    assert!(
        failed["items"][0]["error"].as_str().unwrap().len() > 5,
        "{failed}"
    );
    let links = ok(&c, "list_items", json!({ "kind": "link" })).await;
    assert_eq!(links["items"].as_array().unwrap().len(), 0);
    let p1 = ok(&c, "list_items", json!({ "limit": 3 })).await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 3);
    assert_eq!(p1["nextOffset"], 3);
    let p2 = ok(&c, "list_items", json!({ "limit": 3, "offset": 3 })).await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert!(p2.get("nextOffset").is_none(), "{p2}");
    let e = err(&c, "list_items", json!({ "status": "sleeping" })).await;
    assert!(e.contains("sleeping"), "{e}");

    // status: the seed's monitoring queries.
    let s = ok(&c, "status", json!({})).await;
    assert_eq!(s["files"]["completed"], 3, "{s}");
    assert_eq!(s["files"]["failed"], 1, "{s}");
    assert_eq!(s["links"]["total"], 0, "{s}");
    assert_eq!(s["failed"][0]["title"], "broken.pdf", "{s}");
    assert_eq!(s["stuck"].as_array().unwrap().len(), 0, "{s}");

    // Resources: every completed item, its text by address, bounded.
    let resources = c.list_all_resources().await.unwrap();
    let mut uris: Vec<String> = resources.iter().map(|r| r.uri.clone()).collect();
    uris.sort();
    assert_eq!(uris.len(), 3, "{uris:?}");
    assert!(uris.contains(&format!("trove://item/{item}")), "{uris:?}");
    let r = c
        .read_resource(ReadResourceRequestParams::new(format!(
            "trove://item/{item}"
        )))
        .await
        .unwrap();
    let body = serde_json::to_value(&r.contents).unwrap();
    assert!(
        body[0]["text"].as_str().unwrap().contains("grey heron"),
        "{body}"
    );
    for bad in [
        "trove://item/f999",
        "file:///etc/passwd",
        "trove://item/../x",
    ] {
        assert!(
            c.read_resource(ReadResourceRequestParams::new(bad))
                .await
                .is_err(),
            "{bad} should be refused"
        );
    }

    // Bad calls are errors, and the server is still there afterwards.
    assert!(c
        .call_tool(
            CallToolRequestParams::new("add").with_arguments(
                json!({ "inputs": ["/etc/passwd"] })
                    .as_object()
                    .unwrap()
                    .clone()
            )
        )
        .await
        .map(|r| r.is_error == Some(true))
        .unwrap_or(true));
    assert!(c
        .call_tool(
            CallToolRequestParams::new("search")
                .with_arguments(json!({ "query": 5 }).as_object().unwrap().clone())
        )
        .await
        .map(|r| r.is_error == Some(true))
        .unwrap_or(true));
    let e = err(&c, "search", json!({ "query": "   " })).await;
    assert!(e.contains("empty"), "{e}");
    let s = ok(&c, "status", json!({})).await;
    assert_eq!(s["files"]["total"], 4);
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_only_when_allowed() {
    let sb = library();
    let c = client(&sb, &["--allow-writes"]).await;
    let tools = tool_names(&c).await;
    assert_eq!(
        tools,
        ["add", "list_items", "read", "retry", "search", "status"]
    );

    let new = sb.write("later/owls.txt", "Owls hunt at night over the fields.");
    let r = ok(&c, "add", json!({ "inputs": [new.to_str().unwrap()] })).await;
    assert_eq!(r["added"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["added"][0]["status"], "pending", "{r}");
    let e = err(&c, "add", json!({ "inputs": ["relative/path.txt"] })).await;
    assert!(e.contains("not an absolute path"), "{e}");
    let e = err(&c, "add", json!({ "inputs": [] })).await;
    assert!(e.contains("empty"), "{e}");

    let failed = ok(&c, "list_items", json!({ "status": "failed" })).await;
    let broken = failed["items"][0]["item"].as_str().unwrap().to_owned();
    let r = ok(&c, "retry", json!({ "item": broken })).await;
    assert_eq!(r["status"], "pending", "{r}");
    c.cancel().await.unwrap();
    assert_eq!(sb.count_status("pending"), 2);
}

/// Raw JSON-RPC on the server's stdin: what a client gets for malformed and unknown
/// requests, and that the server answers the next good one.
#[test]
fn malformed_requests_get_errors_and_the_server_stays_up() {
    let sb = library();
    let mut child = sb
        .cmd(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let mut send = move |v: &str| {
        stdin.write_all(v.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    };
    let reply = |id: i64| -> Value {
        loop {
            let v = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no reply to request {id}"));
            if v["id"] == id {
                return v;
            }
        }
    };
    send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
    );
    let init = reply(1);
    assert_eq!(init["result"]["serverInfo"]["name"], "trove", "{init}");
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    // Replies without an id (to what has none) in order of arrival.
    let anonymous = || loop {
        let v = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no reply to a malformed line");
        if v.get("id").is_none_or(Value::is_null) {
            break v;
        }
    };
    // Not JSON at all: a parse error. Not a request (no method): "Invalid request".
    send("this is not json {");
    let r = anonymous();
    assert_eq!(r["error"]["code"], -32700, "{r}");
    send(r#"{"jsonrpc":"2.0","id":3}"#);
    let r = anonymous();
    assert_eq!(r["error"]["code"], -32600, "{r}");
    send(r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method","params":{}}"#);
    let r = reply(2);
    assert!(r["error"]["code"].is_i64(), "{r}");
    send(
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
    );
    let r = reply(3);
    assert!(
        r["error"]["code"].is_i64() || r["result"]["isError"] == true,
        "{r}"
    );
    send(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"search","arguments":{"query":["not","text"]}}}"#,
    );
    let r = reply(4);
    assert!(
        r["error"]["code"].is_i64() || r["result"]["isError"] == true,
        "{r}"
    );
    send(
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read","arguments":{"item":"u12345678901234567890"}}}"#,
    );
    let r = reply(5);
    assert_eq!(r["result"]["isError"], true, "{r}");
    send(
        r#"{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"trove://item/f424242"}}"#,
    );
    let r = reply(6);
    assert!(r["error"]["code"].is_i64(), "{r}");

    send(
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"status","arguments":{}}}"#,
    );
    let r = reply(7);
    assert_eq!(r["result"]["structuredContent"]["files"]["total"], 4, "{r}");
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    drop(send);
    // End of input: the server leaves on its own.
    let status = trove_tests::wait_for(Duration::from_secs(20), || child.try_wait().unwrap());
    assert!(status.is_some(), "trove mcp did not exit at end of input");
}
