//! `trove mcp`: the library as a [Model Context Protocol](https://modelcontextprotocol.io)
//! server over stdio, for LLM clients (Claude Desktop, Cursor, Zed, LM Studio…).
//!
//! Read-only by default: `search`, `read`, `list_items`, `status`, and every item as a
//! resource `trove://item/<id>`. `add` and `retry` exist only when the server is started
//! with writes allowed. Safe by construction: every tool reads the library's database
//! (text already extracted), never a path it is handed; every output is bounded; a tool
//! that fails answers with an error result, and the server goes on.

mod limits;
mod output;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use trove_core::{Engine, ItemKind, ItemRef, SearchMode, Status};

pub use limits::*;
pub use output::*;

/// What the server lets a client do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Offer `add` and `retry` (they change the library).
    pub allow_writes: bool,
}

/// A request line longer than this is refused (a runaway client does not fill memory).
pub const REQUEST_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Serve the library on stdin/stdout until the client goes away.
///
/// Lines reach the protocol layer only when they are JSON: rmcp skips a line it cannot
/// parse without a word, so a line that is not JSON (or too long) is answered here with
/// JSON-RPC's parse error (-32700, id null), as the specification asks, and the server
/// reads on.
pub async fn serve_stdio(engine: Arc<Engine>, opts: Options) -> anyhow::Result<()> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

    let server = Trove::new(engine, opts);
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (from_server, mut to_server) = tokio::io::split(ours);
    let (errors, mut error_rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    let input = tokio::spawn(async move {
        let codec = LinesCodec::new_with_max_length(REQUEST_BYTES_MAX);
        let mut lines = FramedRead::new(tokio::io::stdin(), codec);
        while let Some(line) = lines.next().await {
            match line {
                Ok(l) if l.trim().is_empty() => {}
                Ok(l) if serde_json::from_str::<serde::de::IgnoredAny>(&l).is_ok() => {
                    let sent = to_server.write_all(l.as_bytes()).await;
                    if sent.is_err() || to_server.write_all(b"\n").await.is_err() {
                        break;
                    }
                }
                Ok(_) => {
                    let _ = errors.send(PARSE_ERROR);
                }
                Err(LinesCodecError::MaxLineLengthExceeded) => {
                    let _ = errors.send(TOO_LONG);
                }
                Err(LinesCodecError::Io(_)) => break,
            }
        }
        // End of input: the server sees it and stops.
        let _ = to_server.shutdown().await;
    });
    let output = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        let mut replies = FramedRead::new(from_server, LinesCodec::new());
        loop {
            let line = tokio::select! {
                l = replies.next() => match l {
                    Some(Ok(l)) => l,
                    _ => break,
                },
                Some(e) = error_rx.recv() => e.to_owned(),
            };
            let written = stdout.write_all(line.as_bytes()).await;
            if written.is_err() || stdout.write_all(b"\n").await.is_err() {
                break;
            }
            let _ = stdout.flush().await;
        }
    });
    let running = server.serve(theirs).await?;
    let done = running.waiting().await;
    input.abort();
    let _ = output.await;
    done?;
    Ok(())
}

const PARSE_ERROR: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not JSON"}}"#;
const TOO_LONG: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request: longer than 4 MiB"}}"#;

/// The server: the engine and the tools this session offers.
#[derive(Clone)]
pub struct Trove {
    engine: Arc<Engine>,
    tool_router: ToolRouter<Self>,
}

impl Trove {
    pub fn new(engine: Arc<Engine>, opts: Options) -> Self {
        let tool_router = if opts.allow_writes {
            Self::read_tools() + Self::write_tools()
        } else {
            Self::read_tools()
        };
        Self {
            engine,
            tool_router,
        }
    }

    /// Run an engine call on a blocking thread; its error becomes the tool's error text.
    async fn engine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .unwrap_or_else(|e| Err(format!("the request crashed inside Trove: {e}")))
    }
}

fn item_ref(id: &str) -> Result<ItemRef, String> {
    id.parse::<ItemRef>().map_err(|e| e.to_string())
}

// ----- tool arguments ---------------------------------------------------------------------

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to look for. Words; "exact phrase"; prefix*; -exclude; filters
    /// type:pdf|word|slides|sheet|email|book|html|markdown|text|image|code|link|file,
    /// in:<part of a path or address>, after:YYYY-MM-DD, before:YYYY-MM-DD.
    pub query: String,
    /// keyword (exact words), semantic (meaning) or hybrid (both; the default).
    #[serde(default)]
    pub mode: Option<ModeArg>,
    /// At most this many hits (default 10, at most 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    Keyword,
    Semantic,
    Hybrid,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReadArgs {
    /// The item's id from `search` or `list_items` (f12 for a file, u3 for a link).
    pub item: String,
    /// A passage id from `search` (`passage`): read that passage with the text around it.
    #[serde(default)]
    pub passage: Option<i64>,
    /// First page (or slide) to read, 1-based, for paged documents.
    #[serde(default)]
    pub page_from: Option<u32>,
    /// Last page (or slide) to read, inclusive (default: page_from).
    #[serde(default)]
    pub page_to: Option<u32>,
    /// Characters to skip (continue where `next_offset` of the last read pointed).
    #[serde(default)]
    pub offset: Option<u64>,
    /// At most this many characters (default 8000, at most 32000).
    #[serde(default)]
    pub max_chars: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only items of this status: pending, processing, completed or failed.
    #[serde(default)]
    pub status: Option<String>,
    /// Only files or only links.
    #[serde(default)]
    pub kind: Option<KindArg>,
    /// Items to skip, newest first (for paging).
    #[serde(default)]
    pub offset: Option<u32>,
    /// At most this many items (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindArg {
    File,
    Link,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// Absolute paths of files or folders, or http(s) links.
    pub inputs: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RetryArgs {
    /// The item's id (f12, u3).
    pub item: String,
}

// ----- tools ------------------------------------------------------------------------------

#[tool_router(router = read_tools)]
impl Trove {
    /// Search the library: passages ranked by keyword and meaning, with where they are.
    #[tool(
        description = "Search the user's Trove library (their files and saved web pages). \
        Returns passages with the item id, title, path or URL, page, a snippet and a score; \
        read more of an item with `read`. noCloseMatches=true means nothing is really about \
        the query and the hits are only the nearest.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<Json<SearchOutput>, String> {
        let limit = clamp(args.limit, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX);
        if args.query.trim().is_empty() {
            return Err("the query is empty".to_owned());
        }
        let mode = args.mode.map(|m| match m {
            ModeArg::Keyword => SearchMode::Keyword,
            ModeArg::Semantic => SearchMode::Semantic,
            ModeArg::Hybrid => SearchMode::Hybrid,
        });
        let r = self
            .engine(move |e| {
                e.search(&args.query, mode, limit)
                    .map_err(|e| e.to_string())
            })
            .await?;
        Ok(Json(SearchOutput::from(r)))
    }

    /// Read an item's extracted text: a passage with its surroundings, pages, or a span.
    #[tool(
        description = "Read the text Trove extracted from one item of the library: a passage \
        (by the `passage` id from search) with the text around it, a range of pages, or from \
        a character offset. Output is bounded; `nextOffset` says where to continue.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read(
        &self,
        Parameters(args): Parameters<ReadArgs>,
    ) -> Result<Json<ReadOutput>, String> {
        let item = item_ref(&args.item)?;
        let max = clamp(args.max_chars, READ_CHARS_DEFAULT, READ_CHARS_MAX) as usize;
        self.engine(move |e| read(e, item, &args, max))
            .await
            .map(Json)
    }

    /// List the library's items, newest first.
    #[tool(
        description = "List the items of the user's Trove library, newest first, with their \
        status (pending, processing, completed, failed), kind, title and path or URL.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_items(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<Json<ListOutput>, String> {
        let status = match &args.status {
            Some(s) => Some(s.parse::<Status>().map_err(|e| e.to_string())?),
            None => None,
        };
        let kind = args.kind.map(|k| match k {
            KindArg::File => ItemKind::File,
            KindArg::Link => ItemKind::Url,
        });
        let limit = clamp(args.limit, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX);
        let offset = args.offset.unwrap_or(0).min(LIST_OFFSET_MAX);
        self.engine(move |e| list_page(e, status, kind, offset, limit).map(ListOutput::new))
            .await
            .map(Json)
    }

    /// The library's health: counts by status, failures with errors, stuck items.
    #[tool(
        description = "The state of the user's Trove library: items by status (files and \
        links), failed items with their errors, items pending for over 10 minutes, the \
        processing-time distribution and the queue.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn status(&self) -> Result<Json<StatusOutput>, String> {
        self.engine(|e| {
            let files = e.counts(Some(ItemKind::File)).map_err(|e| e.to_string())?;
            let links = e.counts(Some(ItemKind::Url)).map_err(|e| e.to_string())?;
            let o = e.overview().map_err(|e| e.to_string())?;
            Ok(StatusOutput::new(files, links, o))
        })
        .await
        .map(Json)
    }
}

#[tool_router(router = write_tools)]
impl Trove {
    /// Add files, folders or links (queued; the app or `trove work` processes them).
    #[tool(
        description = "Add files, folders (recursively) or http(s) links to the user's Trove \
        library. Returns at once with the new items as pending; Trove's worker (the app, or \
        `trove work`) extracts and indexes them.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn add(&self, Parameters(args): Parameters<AddArgs>) -> Result<Json<AddOutput>, String> {
        if args.inputs.is_empty() {
            return Err("nothing to add: `inputs` is empty".to_owned());
        }
        if args.inputs.len() > ADD_INPUTS_MAX {
            return Err(format!(
                "at most {ADD_INPUTS_MAX} inputs at a time ({} given)",
                args.inputs.len()
            ));
        }
        self.engine(move |e| {
            let (urls, paths): (Vec<String>, Vec<String>) = args
                .inputs
                .into_iter()
                .partition(|s| s.starts_with("http://") || s.starts_with("https://"));
            let paths: Vec<std::path::PathBuf> = paths.into_iter().map(Into::into).collect();
            if let Some(rel) = paths.iter().find(|p| !p.is_absolute()) {
                return Err(format!(
                    "{} is not an absolute path (this server has no working folder of yours)",
                    rel.display()
                ));
            }
            let mut report = e.add_paths(&paths).map_err(|e| e.to_string())?;
            if !urls.is_empty() {
                let r = e.add_urls(&urls, false).map_err(|e| e.to_string())?;
                report.added.extend(r.added);
                report.skipped.extend(r.skipped);
            }
            Ok(AddOutput::from(report))
        })
        .await
        .map(Json)
    }

    /// Process an item again.
    #[tool(
        description = "Process one item of the user's Trove library again (a failed one, \
        typically): a new job with a fresh attempt budget.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = false
        )
    )]
    async fn retry(
        &self,
        Parameters(args): Parameters<RetryArgs>,
    ) -> Result<Json<ItemOut>, String> {
        let item = item_ref(&args.item)?;
        self.engine(move |e| e.retry(item).map(ItemOut::from).map_err(|e| e.to_string()))
            .await
            .map(Json)
    }
}

/// Items `offset..offset + limit` of the list (newest first), and the offset of the next
/// page when the list goes on (one more item is read to know).
fn list_page(
    e: &Engine,
    status: Option<Status>,
    kind: Option<ItemKind>,
    offset: u32,
    limit: u32,
) -> Result<(Vec<trove_core::Item>, Option<u32>), String> {
    let items = e
        .list(status, kind, offset + limit + 1)
        .map_err(|e| e.to_string())?;
    let more = items.len() > (offset + limit) as usize;
    let page = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok((page, more.then_some(offset + limit)))
}

fn clamp(v: Option<u32>, default: u32, max: u32) -> u32 {
    v.unwrap_or(default).clamp(1, max)
}

/// `read`: one passage in its surroundings, a page range, or a span from an offset.
fn read(e: &Engine, item: ItemRef, args: &ReadArgs, max: usize) -> Result<ReadOutput, String> {
    let it = e.item(item).map_err(|e| e.to_string())?;
    if let Some(chunk) = args.passage {
        let view = e.open_chunk(chunk).map_err(|e| e.to_string())?;
        if view.item_id != it.id.to_string() {
            return Err(format!("passage {chunk} is not in item {}", it.id));
        }
        return Ok(ReadOutput::passage(&it, view, max));
    }
    let text = e.document_text(item).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Ok(ReadOutput::empty(&it));
    }
    if args.page_from.is_some() || args.page_to.is_some() {
        let from = args.page_from.unwrap_or(1).max(1);
        let to = args.page_to.unwrap_or(from).max(from);
        return ReadOutput::pages(&it, &text, from, to, max);
    }
    Ok(ReadOutput::span(&it, &text, args.offset.unwrap_or(0), max))
}

// ----- resources --------------------------------------------------------------------------

const RESOURCE_PREFIX: &str = "trove://item/";

/// `trove://item/f12` or `trove://item/f12?offset=32000`.
fn parse_resource(uri: &str) -> Option<(ItemRef, u64)> {
    let rest = uri.strip_prefix(RESOURCE_PREFIX)?;
    let (id, query) = match rest.split_once('?') {
        Some((id, q)) => (id, Some(q)),
        None => (rest, None),
    };
    let offset = match query {
        None => 0,
        Some(q) => q.strip_prefix("offset=")?.parse().ok()?,
    };
    Some((id.parse().ok()?, offset))
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Trove {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("trove", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Trove is the user's local knowledge base: their files and saved web pages, \
             extracted, chunked and indexed on this machine. Use `search` to find passages, \
             then `read` for more of an item. Cite items by title and path or URL.",
        )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let offset: u32 = match request.and_then(|r| r.cursor) {
            Some(c) => c
                .parse()
                .map_err(|_| ErrorData::invalid_params(format!("not a cursor: {c:?}"), None))?,
            None => 0,
        };
        let offset = offset.min(LIST_OFFSET_MAX);
        let (page, next) = self
            .engine(move |e| list_page(e, Some(Status::Completed), None, offset, RESOURCES_PAGE))
            .await
            .map_err(|m| ErrorData::internal_error(m, None))?;
        let resources = page
            .into_iter()
            .map(|it| {
                Resource::new(format!("{RESOURCE_PREFIX}{}", it.id), it.name.clone())
                    .with_description(it.location.clone())
                    .with_mime_type("text/plain")
            })
            .collect();
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = next.map(|n| n.to_string());
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let t = ResourceTemplate::new("trove://item/{id}", "item")
            .with_description(
                "The text Trove extracted from one item (f12 for a file, u3 for a link), \
                 bounded; a cut text ends with the address that continues it.",
            )
            .with_mime_type("text/plain");
        Ok(ListResourceTemplatesResult::with_all_items(vec![t]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let Some((item, offset)) = parse_resource(&uri) else {
            return Err(ErrorData::resource_not_found(
                format!("not a Trove item address: {uri:?} (expected trove://item/f12)"),
                None,
            ));
        };
        let text = self
            .engine(move |e| {
                e.item(item).map_err(|e| e.to_string())?;
                e.document_text(item).map_err(|e| e.to_string())
            })
            .await
            .map_err(|m| ErrorData::resource_not_found(m, None))?;
        let (part, next) = slice_chars(&text, offset, RESOURCE_CHARS_MAX);
        let mut body = part.to_owned();
        if let Some(next) = next {
            body.push_str(&format!(
                "\n\n[… continues at {RESOURCE_PREFIX}{item}?offset={next}]"
            ));
        }
        Ok(ReadResourceResult::new(vec![ResourceContents::text(body, uri)]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_addresses() {
        let (r, o) = parse_resource("trove://item/f12").unwrap();
        assert_eq!((r.to_string(), o), ("f12".to_owned(), 0));
        let (r, o) = parse_resource("trove://item/u3?offset=32000").unwrap();
        assert_eq!((r.to_string(), o), ("u3".to_owned(), 32000));
        for bad in [
            "trove://item/",
            "trove://item/x1",
            "trove://item/f1?page=2",
            "trove://item/f1?offset=-1",
            "file:///etc/passwd",
            "trove://item/../../etc/passwd",
        ] {
            assert!(parse_resource(bad).is_none(), "{bad}");
        }
    }
}
