//! Property tests for link normalisation (`trove_common::url`).
//!
//! Case counts are per property; `PROPTEST_CASES=10000 cargo test -p trove-common --test prop`
//! overrides all of them (the `proptest!` macro passes its config through
//! `contextualize_config`, which reads the environment).

use proptest::prelude::*;
use trove_common::url::{check_http, normalize_url, normalized, Url};

/// Something that looks like a link: scheme, separator, user info, host, port, path, query
/// and fragment, each drawn from the awkward corners (mixed case, IDNA, IP literals,
/// percent escapes, default ports, empty queries, dot segments, stray whitespace).
fn link_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        4 => Just("http"),
        4 => Just("https"),
        2 => Just("HTTP"),
        2 => Just("hTtPs"),
        1 => Just("ftp"),
        1 => Just("file"),
        1 => Just("mailto"),
        1 => Just("ws"),
        1 => Just("foo"),
        1 => Just("web+x"),
        1 => Just("javascript"),
        1 => Just(""),
    ];
    let sep = prop_oneof![
        8 => Just("://"),
        1 => Just(":"),
        1 => Just(":/"),
        1 => Just(":///"),
        1 => Just(":\\\\"),
        1 => Just(":/\\"),
    ];
    let userinfo = prop_oneof![
        6 => Just(String::new()),
        1 => "[a-zA-Z0-9%:._-]{0,6}@",
        1 => "[a-z]{1,4}:[^/?#]{0,4}@",
    ];
    let host = prop_oneof![
        6 => "[a-zA-Z0-9-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){0,3}\\.?",
        2 => "[a-zA-Zäöüßñé中文ΣΑ-]{1,8}\\.(com|COM|de|xn--p1ai)",
        1 => "(xn--|XN--)[a-z0-9-]{0,10}\\.org",
        1 => "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
        1 => "0[xX][0-9a-fA-F]{1,8}",
        1 => "\\[(::1|2001:DB8::A|::FFFF:1.2.3.4|fe80::1%25eth0|[0-9a-fA-F:]{0,12})\\]",
        1 => "(%[0-9a-fA-F]{2}|[a-zA-Z]){1,6}",
        1 => "[^/?#@:\\[\\]]{0,8}",
        1 => Just(String::new()),
    ];
    let port = prop_oneof![
        6 => Just(String::new()),
        2 => Just(":80".to_string()),
        2 => Just(":443".to_string()),
        1 => Just(":".to_string()),
        1 => Just(":080".to_string()),
        1 => Just(":0443".to_string()),
        2 => any::<u32>().prop_map(|p| format!(":{}", p % 70_000)),
        1 => "[:][0-9a-z]{1,6}",
    ];
    let path = prop_oneof![
        3 => Just(String::new()),
        6 => proptest::collection::vec(
            prop_oneof![
                4 => "[a-zA-Z0-9._~!$&'()*+,;=:@-]{0,8}",
                1 => Just("..".to_string()),
                1 => Just(".".to_string()),
                1 => Just("%2e%2E".to_string()),
                1 => Just("%2F".to_string()),
                1 => "[ é中\\\\%|^`{}<>\"]{1,4}",
                1 => Just(String::new()),
            ],
            1..5
        )
        .prop_map(|segs| format!("/{}", segs.join("/"))),
    ];
    let query = prop_oneof![
        4 => Just(String::new()),
        2 => Just("?".to_string()),
        3 => "[?][a-zA-Z0-9=&%+ é?/]{0,10}",
    ];
    let fragment = prop_oneof![
        4 => Just(String::new()),
        2 => Just("#".to_string()),
        2 => "#[^\\n]{0,8}",
    ];
    let pad = prop_oneof![
        6 => Just(String::new()),
        1 => "[ \\t\\n\\r\\x00\\x1f\\x0c]{1,3}",
    ];
    (
        pad.clone(),
        scheme,
        sep,
        userinfo,
        host,
        port,
        path,
        query,
        fragment,
        pad,
    )
        .prop_map(|(a, s, sep, ui, h, p, pa, q, f, b)| {
            format!("{a}{s}{sep}{ui}{h}{p}{pa}{q}{f}{b}")
        })
}

/// Link-like text with a few characters inserted, deleted or replaced at random, plus
/// plain arbitrary strings.
fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => link_like(),
        2 => (link_like(), any::<usize>(), any::<char>(), 0..3u8).prop_map(|(s, at, c, op)| {
            let mut chars: Vec<char> = s.chars().collect();
            let at = if chars.is_empty() { 0 } else { at % chars.len() };
            match op {
                0 => chars.insert(at, c),
                1 if !chars.is_empty() => {
                    chars.remove(at);
                }
                _ if !chars.is_empty() => chars[at] = c,
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        }),
        2 => any::<String>(),
    ]
}

/// The invariants of a link `normalize_url` returned.
fn assert_canonical(u: &Url) -> Result<(), TestCaseError> {
    prop_assert!(matches!(u.scheme(), "http" | "https"), "scheme of {u}");
    prop_assert!(check_http(u).is_ok(), "{u}");
    prop_assert!(u.host_str().is_some_and(|h| !h.is_empty()), "host of {u}");
    prop_assert!(
        !u.host_str()
            .unwrap_or_default()
            .bytes()
            .any(|b| b.is_ascii_uppercase()),
        "upper-case host in {u}"
    );
    prop_assert_eq!(u.fragment(), None, "fragment kept in {}", u);
    prop_assert_ne!(u.query(), Some(""), "empty query kept in {}", u);
    let default = if u.scheme() == "http" { 80 } else { 443 };
    prop_assert_ne!(u.port(), Some(default), "default port kept in {}", u);
    // The text form is a link in its own right.
    prop_assert!(Url::parse(u.as_str()).is_ok(), "{u} does not parse");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Never panics; errors are user-facing sentences; a result is canonical.
    #[test]
    fn normalize_url_is_total_and_canonical(input in any_input()) {
        match normalize_url(&input) {
            Ok(u) => assert_canonical(&u)?,
            Err(e) => prop_assert!(
                e.starts_with("not a valid link (")
                    || e.starts_with("only http and https links can be added (got ")
                    || e == "the link has no host",
                "unexpected error text {:?}", e
            ),
        }
    }

    /// normalize(normalize(x)) == normalize(x).
    #[test]
    fn normalize_url_is_idempotent(input in any_input()) {
        if let Ok(once) = normalize_url(&input) {
            let twice = normalize_url(once.as_str());
            prop_assert_eq!(
                twice.as_ref().map(Url::as_str),
                Ok(once.as_str()),
                "input {:?}",
                input
            );
        }
    }

    /// `normalized` (the de-duplication key of an already parsed link) agrees with
    /// `normalize_url` on http(s) links and is idempotent for every scheme.
    #[test]
    fn normalized_agrees_and_is_idempotent(input in any_input()) {
        let Ok(parsed) = Url::parse(&input) else {
            return Ok(());
        };
        let key = normalized(&parsed);
        if let Ok(u) = normalize_url(&input) {
            prop_assert_eq!(&key, u.as_str(), "input {:?}", input);
        }
        let reparsed = Url::parse(&key);
        prop_assert!(reparsed.is_ok(), "key {:?} of {:?} does not parse", key, input);
        let again = normalized(&reparsed.unwrap());
        prop_assert_eq!(&again, &key, "input {:?}", input);
    }
}
