use url::Url;

use crate::ScrapeError;

/// Checks a link a person wants to add. Only `http:` and `https:` links with a
/// host are accepted; `file:`, `data:`, `ftp:`, `javascript:` and the rest are
/// refused with a message that names the scheme (the messages of
/// [`trove_common::url::normalize_url`]). Surrounding whitespace is ignored, and a
/// bare `example.com/page` (no scheme at all) is read as `https://example.com/page`.
/// The link is returned as given otherwise (its fragment is kept).
pub fn validate_url(input: &str) -> Result<Url, ScrapeError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ScrapeError::permanent("the link is empty"));
    }
    let not_a_link = |e: url::ParseError| ScrapeError::permanent(format!("not a valid link ({e})"));
    let url = match Url::parse(input) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            Url::parse(&format!("https://{input}")).map_err(not_a_link)?
        }
        Err(e) => return Err(not_a_link(e)),
    };
    trove_common::url::check_http(&url).map_err(ScrapeError::permanent)?;
    Ok(url)
}

/// Limits of a crawl started from a link. `max_depth` / `max_pages` are
/// enforced by the engine's crawl loop; [`CrawlScope::allows`] decides which
/// discovered links belong to the crawl at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlScope {
    pub start: Url,
    pub max_depth: u32,
    pub max_pages: u32,
    pub same_path_prefix: bool,
}

impl CrawlScope {
    /// `url` is http(s), on the same host as `start` (http and https both
    /// count; a non-default port must match), and — when `same_path_prefix`
    /// is set — under the start's directory: `/docs/guide/` and `/docs/guide`
    /// both cover `/docs/guide/…`, `/docs/intro.html` covers `/docs/…`.
    pub fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let (Some(host), Some(start_host)) = (url.host_str(), self.start.host_str()) else {
            return false;
        };
        if !host.eq_ignore_ascii_case(start_host) {
            return false;
        }
        let port = url.port_or_known_default();
        let start_port = self.start.port_or_known_default();
        let default_like = |p: Option<u16>| matches!(p, Some(80) | Some(443));
        if port != start_port && !(default_like(port) && default_like(start_port)) {
            return false;
        }
        if !self.same_path_prefix {
            return true;
        }
        let path = url.path();
        let start_path = self.start.path();
        if start_path.ends_with('/') {
            return path.starts_with(start_path);
        }
        let last = start_path.rsplit('/').next().unwrap_or("");
        if last.contains('.') {
            // A file: its directory is the scope.
            let dir = &start_path[..start_path.len() - last.len()];
            path.starts_with(dir)
        } else {
            // `/docs/guide` is a directory written without the slash.
            path == start_path
                || path
                    .strip_prefix(start_path)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_schemes_with_the_scheme_named() {
        for (input, scheme) in [
            ("file:///etc/passwd", "file:"),
            ("data:text/html,hi", "data:"),
            ("ftp://example.com/x", "ftp:"),
            ("javascript:alert(1)", "javascript:"),
        ] {
            let e = validate_url(input).unwrap_err();
            assert_eq!(
                e.message,
                format!("only http and https links can be added (got {scheme})")
            );
            assert_eq!(e.kind, crate::ErrorKind::Permanent);
        }
    }

    #[test]
    fn accepts_http_and_bare_hosts() {
        assert_eq!(
            validate_url("  https://Example.com/a?b=1#c ")
                .unwrap()
                .as_str(),
            "https://example.com/a?b=1#c"
        );
        assert_eq!(
            validate_url("example.com/page").unwrap().as_str(),
            "https://example.com/page"
        );
        assert!(validate_url("").is_err());
        assert!(validate_url("http://").is_err());
    }
}
