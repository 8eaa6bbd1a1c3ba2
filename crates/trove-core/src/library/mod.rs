//! The library: what a person does to it — add files and links, retry, refresh, delete,
//! change the queue's settings, open a passage. Each operation is a function over the
//! [`Store`](crate::store::Store) and the few settings it needs.

pub mod add;
pub mod changes;
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
        let utf16 = |byte: i64| -> u32 {
            let b = usize::try_from(byte).unwrap_or(0).min(text.len());
            let b = (0..=b)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text[..b].encode_utf16().count() as u32
        };
        Ok(ChunkView {
            item_id: item.clone(),
            name: it.name,
            location: it.location,
            start: utf16(start),
            end: utf16(end),
            text: text.clone(),
        })
    })
}
