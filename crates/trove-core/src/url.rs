//! Links as Trove stores them: the one normalisation of `trove_common::url`, as the text
//! kept in `scraped_contents.url` (the de-duplication key).

/// http(s) with a host; no fragment, no empty query, no default port. The error is a
/// sentence for the user.
pub fn normalize_url(input: &str) -> Result<String, String> {
    trove_common::url::normalize_url(input).map(String::from)
}
