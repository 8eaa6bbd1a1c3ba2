//! Links as Trove stores them: one normalisation for adding, crawling, redirects and
//! de-duplication.

pub use ::url::Url;

/// Parses and normalises a link a person (or a crawled page) gave.
///
/// Accepted: `http:` and `https:` links with a host. The result has no fragment, no
/// empty query (`page?` becomes `page`) and no default port (`:80` for http, `:443` for
/// https); the host is lower-case (IDNA for international names), as the `url` crate
/// does for these schemes. Nothing else is touched: query order, trailing slashes and
/// path case are kept, since servers may treat them differently.
///
/// Errors are one sentence for the user: "not a valid link (…)", "only http and https
/// links can be added (got ftp:)", "the link has no host".
pub fn normalize_url(input: &str) -> Result<Url, String> {
    let mut url = Url::parse(input).map_err(|e| format!("not a valid link ({e})"))?;
    check_http(&url)?;
    canonicalize(&mut url);
    Ok(url)
}

/// The normalised text of an already parsed link (see [`normalize_url`]), e.g. as a
/// de-duplication key. Does not check the scheme: use [`check_http`] for that.
pub fn normalized(url: &Url) -> String {
    let mut url = url.clone();
    canonicalize(&mut url);
    url.into()
}

/// Refuses anything but an `http:`/`https:` link with a host, with the user-facing
/// messages of [`normalize_url`].
pub fn check_http(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "only http and https links can be added (got {other}:)"
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the link has no host".into());
    }
    Ok(())
}

/// Drops the fragment, an empty query and a default port; lower-cases the host.
fn canonicalize(url: &mut Url) {
    url.set_fragment(None);
    if url.query() == Some("") {
        url.set_query(None);
    }
    // `Url` already lower-cases (and IDNA-normalises) the hosts of special schemes and
    // drops their default port while parsing; repeat both for anything else.
    if let Some(host) = url
        .host_str()
        .filter(|h| h.bytes().any(|b| b.is_ascii_uppercase()))
        .map(str::to_ascii_lowercase)
    {
        let _ = url.set_host(Some(&host));
    }
    let default_port = match url.scheme() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    if url.port().is_some() && url.port() == default_port {
        let _ = url.set_port(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_url(s).unwrap().into()
    }

    #[test]
    fn drops_fragment_empty_query_and_default_port_only() {
        assert_eq!(
            norm("HTTP://WWW.Example.COM:80/Path/?b=2&a=1#frag"),
            "http://www.example.com/Path/?b=2&a=1"
        );
        assert_eq!(norm("https://example.com:443"), "https://example.com/");
        assert_eq!(
            norm("https://example.com:8443/x#y"),
            "https://example.com:8443/x"
        );
        assert_eq!(norm("https://example.com/a?"), "https://example.com/a");
        assert_eq!(norm("https://example.com/a?#top"), "https://example.com/a");
        assert_eq!(norm("https://example.com/a?x"), "https://example.com/a?x");
        assert_eq!(norm("  https://example.com/a  "), "https://example.com/a");
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            normalize_url("ftp://example.com/x").unwrap_err(),
            "only http and https links can be added (got ftp:)"
        );
        assert_eq!(
            normalize_url("file:///etc/passwd").unwrap_err(),
            "only http and https links can be added (got file:)"
        );
        assert_eq!(
            normalize_url("example.com/page").unwrap_err(),
            "not a valid link (relative URL without a base)"
        );
        assert_eq!(
            normalize_url("http://").unwrap_err(),
            "not a valid link (empty host)"
        );
    }

    #[test]
    fn host_is_required() {
        let mut u = Url::parse("http://example.com/").unwrap();
        // A hostless http URL can only be built by hand, not parsed.
        assert!(u.set_host(None).is_err());
        assert_eq!(check_http(&u), Ok(()));
        let u = Url::parse("mailto:someone@example.com").unwrap();
        assert!(check_http(&u).is_err());
    }

    #[test]
    fn normalized_matches_normalize_url() {
        for s in [
            "https://example.com/a?#x",
            "http://example.com:80/",
            "https://Example.com/P?q=1",
        ] {
            let parsed = Url::parse(s).unwrap();
            assert_eq!(normalized(&parsed), norm(s));
        }
        // Non-special schemes: host case and nothing else.
        let u = Url::parse("foo://EXAMPLE.com:80/x?#y").unwrap();
        assert_eq!(normalized(&u), "foo://example.com:80/x");
    }
}
