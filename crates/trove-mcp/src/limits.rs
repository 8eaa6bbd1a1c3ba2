//! How much a client may ask for at once: every output of the server is bounded.

/// Hits `search` returns unless asked (and at most).
pub const SEARCH_LIMIT_DEFAULT: u32 = 10;
pub const SEARCH_LIMIT_MAX: u32 = 50;
/// Characters `read` returns unless asked (and at most).
pub const READ_CHARS_DEFAULT: u32 = 8_000;
pub const READ_CHARS_MAX: u32 = 32_000;
/// Items `list_items` returns unless asked (and at most), and how deep paging goes.
pub const LIST_LIMIT_DEFAULT: u32 = 50;
pub const LIST_LIMIT_MAX: u32 = 500;
pub const LIST_OFFSET_MAX: u32 = 1_000_000;
/// Resources per `resources/list` page.
pub const RESOURCES_PAGE: u32 = 100;
/// Characters of an item's text per resource read.
pub const RESOURCE_CHARS_MAX: usize = 32_000;
/// Inputs one `add` call takes.
pub const ADD_INPUTS_MAX: usize = 1_000;
/// Failed items `status` lists.
pub const STATUS_FAILED_MAX: usize = 20;

/// At most `max` characters of `text` from character `offset`, and where the rest starts
/// (a character offset) when something is left.
pub fn slice_chars(text: &str, offset: u64, max: usize) -> (&str, Option<u64>) {
    let mut idx = text.char_indices().map(|(i, _)| i).chain([text.len()]);
    let start = idx.nth(offset.min(usize::MAX as u64) as usize);
    let Some(start) = start else {
        return ("", None);
    };
    let rest = &text[start..];
    match rest.char_indices().nth(max) {
        Some((end, _)) => (&rest[..end], Some(offset + max as u64)),
        None => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_by_characters() {
        assert_eq!(slice_chars("héllo wörld", 0, 5), ("héllo", Some(5)));
        assert_eq!(slice_chars("héllo wörld", 6, 5), ("wörld", None));
        assert_eq!(slice_chars("héllo wörld", 6, 50), ("wörld", None));
        assert_eq!(slice_chars("héllo", 5, 5), ("", None));
        assert_eq!(slice_chars("héllo", 99, 5), ("", None));
        assert_eq!(slice_chars("", 0, 5), ("", None));
        assert_eq!(slice_chars("日本語のテキスト", 2, 3), ("語のテ", Some(5)));
    }
}
