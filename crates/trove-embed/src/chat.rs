//! An OpenAI-compatible chat endpoint (`/v1/chat/completions`: Ollama, llama.cpp server,
//! LM Studio, vLLM, OpenAI), streamed: Ask's answers. The same address rule as the
//! embeddings client (`https://`, or `http://` to this computer), the same care with keys
//! (never in a message), and errors as sentences: the endpoint down, a refused key, a
//! missing model, a rate limit (429 with `Retry-After`, waited out when short), a timeout.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

use crate::openai::{
    check_api_url, collect_secrets, local_only, parse_retry_after, read_error_body, root_cause,
    scrub, server_message, shown_url,
};

/// How long to wait to connect, and for a whole answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);
/// A `Retry-After` up to this long is waited out (at most [`RATE_LIMIT_RETRIES`] times);
/// a longer one is reported.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);
pub const RATE_LIMIT_RETRIES: u32 = 2;
/// Bytes of a streamed answer read at most (a runaway endpoint stops here).
pub const STREAM_BYTES_MAX: u64 = 8 * 1024 * 1024;

/// Why there is no answer: a sentence for the person asking.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ChatFailure(pub String);

#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// `http://localhost:11434/v1` (the part before `/chat/completions`).
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

pub struct OpenAiChat {
    config: ChatConfig,
    endpoint: Url,
    shown: String,
    /// The key and the address's credentials, in every form a message could echo them.
    secrets: Vec<String>,
    client: reqwest::blocking::Client,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    stream: bool,
    temperature: f32,
}

impl OpenAiChat {
    pub fn new(config: ChatConfig) -> Result<Self, ChatFailure> {
        let (mut url, loopback) = check_api_url(&config.base_url, "chat endpoint")
            .map_err(|e| ChatFailure(e.to_string()))?;
        let secrets = collect_secrets(&url, config.api_key.as_deref());
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        let shown = shown_url(&url).trim_end_matches('/').to_owned();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("chat").push("completions");
        }
        let builder = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(ANSWER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        let client = local_only(builder, &url, loopback).build().map_err(|_| {
            ChatFailure("Trove could not prepare its connection to the chat endpoint.".into())
        })?;
        Ok(Self {
            config,
            endpoint: url,
            shown,
            secrets,
            client,
        })
    }

    /// The address shown to people (no credentials).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// The answer to `messages` (role, content), streamed piece by piece to `on_token`.
    pub fn answer(
        &self,
        messages: &[(&str, &str)],
        on_token: &mut dyn FnMut(&str),
    ) -> Result<String, ChatFailure> {
        let body = Request {
            model: &self.config.model,
            messages: messages
                .iter()
                .map(|(role, content)| Message { role, content })
                .collect(),
            stream: true,
            temperature: 0.2,
        };
        let shown = &self.shown;
        let mut tries = 0;
        let resp = loop {
            let mut req = self.client.post(self.endpoint.clone()).json(&body);
            if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
                req = req.bearer_auth(key);
            }
            let mut resp = req.send().map_err(|e| {
                let e = e.without_url();
                ChatFailure(if e.is_timeout() {
                    format!("The chat endpoint at {shown} did not answer in time.")
                } else if e.is_connect() {
                    format!(
                        "Could not reach the chat endpoint at {shown} ({}): is the server running?",
                        root_cause(&e)
                    )
                } else {
                    format!(
                        "Could not talk to the chat endpoint at {shown} ({}).",
                        root_cause(&e)
                    )
                })
            })?;
            let status = resp.status();
            let code = status.as_u16();
            if status.is_success() {
                break resp;
            }
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let detail = server_message(&scrub(&self.secrets, read_error_body(&mut resp)));
            if code == 429 || code == 503 {
                match retry_after {
                    Some(wait) if wait <= RETRY_AFTER_MAX && tries < RATE_LIMIT_RETRIES => {
                        tries += 1;
                        tracing::info!(wait_ms = wait.as_millis() as u64, "chat endpoint: rate limited; waiting");
                        std::thread::sleep(wait);
                        continue;
                    }
                    Some(wait) => {
                        return Err(ChatFailure(format!(
                            "The chat endpoint at {shown} is busy (HTTP {code}: {detail}); it asks to try again in {} s.",
                            wait.as_secs().max(1)
                        )))
                    }
                    None => {
                        return Err(ChatFailure(format!(
                            "The chat endpoint at {shown} is busy (HTTP {code}: {detail}); try again shortly."
                        )))
                    }
                }
            }
            return Err(ChatFailure(match code {
                401 | 403 => format!(
                    "The chat endpoint at {shown} refused the key (HTTP {code}: {detail}): check chat-key."
                ),
                404 => format!(
                    "The chat endpoint at {shown} has no model {:?} or no /chat/completions (HTTP 404: {detail}): check chat-model and chat-url.",
                    self.config.model
                ),
                _ if status.is_redirection() => format!(
                    "The chat endpoint at {shown} sent Trove to another address (HTTP {code}), which it does not follow: check chat-url."
                ),
                _ => format!("The chat endpoint at {shown} answered HTTP {code}: {detail}."),
            }));
        };
        let streamed = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let reader = resp.take(STREAM_BYTES_MAX);
        let answer = if streamed {
            read_stream(BufReader::new(reader), on_token)
        } else {
            read_whole(reader, on_token)
        }
        .map_err(|e| ChatFailure(format!("The chat endpoint at {shown} {e}")))?;
        if answer.trim().is_empty() {
            return Err(ChatFailure(format!(
                "The chat endpoint at {shown} sent an empty answer."
            )));
        }
        Ok(answer)
    }
}

/// Server-sent events: `data: {chunk}` lines until `data: [DONE]`.
fn read_stream(reader: impl BufRead, on_token: &mut dyn FnMut(&str)) -> Result<String, String> {
    let mut answer = String::new();
    for line in reader.lines() {
        let line = line.map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                "stopped answering before the end.".to_owned()
            } else {
                format!("broke off its answer ({e}).")
            }
        })?;
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        let v: serde_json::Value = serde_json::from_str(data)
            .map_err(|_| "sent a piece of answer that is not JSON.".to_owned())?;
        if v.get("error").is_some() {
            return Err(format!("stopped with an error: {}.", server_message(data)));
        }
        if let Some(t) = v["choices"][0]["delta"]["content"].as_str() {
            if !t.is_empty() {
                on_token(t);
                answer.push_str(t);
            }
        }
    }
    Ok(answer)
}

/// A whole (non-streamed) chat completion.
fn read_whole(mut reader: impl Read, on_token: &mut dyn FnMut(&str)) -> Result<String, String> {
    let mut body = String::new();
    reader
        .read_to_string(&mut body)
        .map_err(|e| format!("broke off its answer ({e})."))?;
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|_| "sent an answer that is not JSON.".to_owned())?;
    let text = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or("sent an answer without a message.")?
        .to_owned();
    on_token(&text);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_pieces_in_order_until_done() {
        let body = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"Herons \"}}]}\n\n\
                    : a comment\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"wait [1].\"}}]}\n\n\
                    data: [DONE]\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"after done\"}}]}\n";
        let mut seen = Vec::new();
        let a = read_stream(body.as_bytes(), &mut |t| seen.push(t.to_owned())).unwrap();
        assert_eq!(a, "Herons wait [1].");
        assert_eq!(seen, ["Herons ", "wait [1]."]);
        let e = read_stream(
            "data: {\"error\":{\"message\":\"model crashed\"}}\n".as_bytes(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.contains("model crashed"), "{e}");
        assert!(read_stream("data: {nope\n".as_bytes(), &mut |_| {}).is_err());
    }

    #[test]
    fn whole_answers() {
        let body = r#"{"choices":[{"message":{"role":"assistant","content":"Yes [2]."}}]}"#;
        let mut seen = String::new();
        assert_eq!(
            read_whole(body.as_bytes(), &mut |t| seen.push_str(t)).unwrap(),
            "Yes [2]."
        );
        assert_eq!(seen, "Yes [2].");
        assert!(read_whole("{}".as_bytes(), &mut |_| {}).is_err());
    }

    #[test]
    fn addresses() {
        let c = OpenAiChat::new(ChatConfig {
            base_url: "http://user:pw@localhost:11434/v1/".into(),
            model: "llama3.2".into(),
            api_key: None,
        })
        .unwrap();
        assert_eq!(c.shown(), "http://localhost:11434/v1");
        assert_eq!(c.endpoint.path(), "/v1/chat/completions");
        let e = OpenAiChat::new(ChatConfig {
            base_url: "http://192.0.2.1/v1".into(),
            model: "m".into(),
            api_key: None,
        })
        .err()
        .unwrap();
        assert!(e.0.contains("chat endpoint must use https"), "{e}");
    }
}
