//! The library: what a person does to it — add files and links, retry, refresh, delete,
//! change the queue's settings, open a passage. Each operation is a function over the
//! [`Store`](crate::store::Store) and the few settings it needs.

pub mod add;
pub mod changes;
pub mod folders;
pub mod settings;

use crate::error::Result;
use crate::model::ChunkView;
use crate::store::{content, items, Store};

/// A chunk with its whole document, for "open this passage".
pub fn open_chunk(store: &Store, chunk_id: i64) -> Result<ChunkView> {
    store.read(|c| {
        let (item, start, end) = content::chunk_span(c, chunk_id)?
            .ok_or_else(|| crate::Error::NotFound(format!("chunk {chunk_id}")))?;
        let text = content::document_text(c, &item)?;
        let it = items::get(c, item.parse()?)?;
        let byte = |b: i64| -> usize {
            let b = usize::try_from(b).unwrap_or(0).min(text.len());
            floor_char(&text, b)
        };
        let (start, end) = (byte(start), byte(end).max(byte(start)));
        // The window sent to the reader: the chunk with up to READER_CONTEXT bytes of
        // context on each side, cut at a line break when there is one nearby.
        let from = floor_char(&text, start.saturating_sub(READER_CONTEXT));
        let from = text[from..start]
            .find('\n')
            .filter(|_| from > 0)
            .map_or(from, |i| from + i + 1);
        let to = floor_char(&text, (end + READER_CONTEXT).min(text.len()));
        let to = text[end..to]
            .rfind('\n')
            .filter(|_| to < text.len())
            .map_or(to, |i| end + i);
        let window = &text[from..to];
        let utf16 = |b: usize| window[..b - from].encode_utf16().count() as u32;
        Ok(ChunkView {
            item_id: item.clone(),
            name: it.name,
            location: it.location,
            start: utf16(start),
            end: utf16(end),
            first_page: 1 + text[..from].matches('\x0c').count() as u32,
            cut_before: from > 0,
            cut_after: to < text.len(),
            text: window.to_owned(),
        })
    })
}

/// Bytes of the document sent on each side of an opened chunk (the reader shows a window,
/// not a whole 64 MiB document).
pub const READER_CONTEXT: usize = 64 * 1024;

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
