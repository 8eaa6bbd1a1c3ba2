//! The layering of trove-core (ARCHITECTURE.md), checked on the source: dependencies point
//! down only, nothing below the engine imports it, and every SQL string lives in `store/`.

use std::path::{Path, PathBuf};

/// Layer of each top-level module; a module may use its own layer's foundations (layer 0)
/// and anything in a lower layer, never a higher one or a sibling of layers 2+.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("model", 0),
    ("clock", 0),
    ("chunk", 0),
    ("url", 0),
    ("config", 0),
    ("stats", 0),
    ("ports", 0),
    ("store", 1),
    ("library", 2),
    ("ingest", 2),
    ("search", 2),
    ("ask", 2),
    ("worker", 3),
    ("engine", 4),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`store/jobs.rs` → `store`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Code without `//` comments (doc comments included) and without `#[cfg(test)]` tails.
fn code(text: &str) -> String {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    body.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Modules named through `crate::x` in `code`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Layering violations of one file of `module`.
fn violations(module: &str, code: &str) -> Vec<String> {
    let Some(own) = layer(module) else {
        return vec![format!("module {module} has no layer in tests/layers.rs")];
    };
    let mut bad = Vec::new();
    for used in crate_refs(code) {
        let Some(l) = layer(&used) else {
            continue; // a re-export of lib.rs (Result, Error, ItemRef…): layer 0 types
        };
        let sibling = l == own && own >= 2 && used != module;
        if used != module && (l > own || sibling) {
            bad.push(format!(
                "{module} (layer {own}) uses crate::{used} (layer {l})"
            ));
        }
    }
    bad
}

const SQL: &[&str] = &[
    "SELECT ",
    "INSERT INTO",
    "INSERT OR",
    "DELETE FROM",
    " SET ",
    "CREATE TABLE",
    "CREATE INDEX",
    "PRAGMA",
    "MATCH ?",
];

/// SQL keywords in string literals of `code`.
fn sql_in(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        if !line.contains('"') {
            continue;
        }
        for kw in SQL {
            if line.contains(kw) {
                found.push(format!("line {}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn dependencies_point_down_and_sql_lives_in_store() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        if rel == Path::new("lib.rs") {
            continue;
        }
        let module = module_of(rel);
        let text = code(&std::fs::read_to_string(f).unwrap());
        for v in violations(&module, &text) {
            problems.push(format!("{}: {v}", rel.display()));
        }
        if module != "store" {
            for s in sql_in(&text) {
                problems.push(format!("{}: SQL outside store/: {s}", rel.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks themselves can fail.
#[test]
fn the_checker_catches_what_it_should() {
    assert!(!violations("ingest", "use crate::engine::Engine;").is_empty());
    assert!(!violations("store", "use crate::search::SearchCache;").is_empty());
    assert!(!violations("search", "use crate::ingest::index;").is_empty());
    assert!(violations(
        "worker",
        "use crate::ingest::JobCtx; use crate::store::Store;"
    )
    .is_empty());
    assert!(violations("engine", "use crate::worker; use crate::Result;").is_empty());
    assert!(!sql_in(r#"conn.execute("DELETE FROM chunks WHERE item = ?1", [k])"#).is_empty());
    assert!(
        sql_in("// SELECT in a comment is prose").is_empty()
            || !code("// SELECT x").contains("SELECT")
    );
}
