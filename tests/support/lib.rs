//! Helpers shared by the black-box suites: they run the real `trove` binary against a
//! private temporary home (never the user's data directory) and read its SQLite file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `trove` binary under test: `$TROVE_BIN`, else `trove` next to the test executable's
/// target directory (`target/debug/trove`).
pub fn trove_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TROVE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug/trove
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("trove");
    assert!(
        bin.is_file(),
        "{} not found: build it first (`cargo build -p trove`) or set TROVE_BIN",
        bin.display()
    );
    bin
}

/// A private home for one test: `HOME`, `XDG_DATA_HOME` and the database live under it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    /// Set `TROVE_MODEL_DIR` for the child (None: point it at an empty dir, no model).
    pub model_dir: Option<PathBuf>,
    /// More environment for every command (e.g. `TROVE_OCR=off`).
    pub env: Vec<(String, String)>,
    /// A program (with its arguments) that runs `trove` for every command, e.g.
    /// `unshare -U -r …` to run it in a user namespace with its own limits.
    pub wrapper: Vec<String>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("data").join("trove.db");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        Sandbox {
            dir,
            db,
            model_dir: None,
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }

    /// Where tests put the files they add.
    pub fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.files().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(trove_bin());
                c
            }
            None => Command::new(trove_bin()),
        };
        let home = self.dir.path().join("home");
        c.args(args)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("TROVE_DB", &self.db)
            .env_remove("TROVE_EMBED_URL")
            .env_remove("TROVE_EMBED_KEY")
            .env_remove("TROVE_EMBED_MODEL")
            .env_remove("NO_COLOR")
            .env(
                "TROVE_MODEL_DIR",
                self.model_dir
                    .clone()
                    .unwrap_or_else(|| self.dir.path().join("no-model")),
            )
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run to completion; returns the output whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run trove")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "trove {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("utf-8 output")
    }

    /// Run with `--json` and parse stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
    }

    /// A read-only connection to the database (what the tests check against).
    pub fn conn(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open db");
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c
    }

    /// Items by status over both tables (NULL status reads as completed).
    pub fn count_status(&self, status: &str) -> i64 {
        let c = self.conn();
        let sql = "SELECT (SELECT COUNT(*) FROM knowledge_files WHERE COALESCE(status,'completed') = ?1)
                        + (SELECT COUNT(*) FROM scraped_contents WHERE COALESCE(status,'completed') = ?1)";
        c.query_row(sql, [status], |r| r.get(0)).unwrap()
    }
}

/// Poll `f` until it returns Some or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A sandbox with three small documents in its files folder, not yet added: a Markdown
/// note on herons, a text on bees, and a three-page PDF atlas (mountains; glaciers and
/// moraines; deserts). The MCP and Ask suites search and read these.
pub fn sample_library() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "herons.md",
        "# Herons\n\nThe grey heron waits in the tidal marsh at dawn for fish.",
    );
    sb.write(
        "bees.txt",
        "A person who keeps bees visits the hives every morning.",
    );
    sb.write(
        "atlas.pdf",
        simple_pdf(&[
            "Page one is about mountains.",
            "Page two is about glaciers and moraines.",
            "Page three is about deserts.",
        ]),
    );
    sb
}

/// A small valid PDF with one page per entry of `pages` (Helvetica text, correct xref).
pub fn simple_pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, then per page: page obj, content obj.
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        n
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for (i, text) in pages.iter().enumerate() {
        let content_id = 5 + 2 * i;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ));
        let escaped = text
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        let stream = format!("BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            stream.len(),
            stream
        ));
    }
    let objects: Vec<Vec<u8>> = objects.into_iter().map(String::into_bytes).collect();
    pdf_file(&objects)
}

/// A PDF file of these objects (numbered from 1; object 1 is the catalog), with a correct
/// xref table.
pub fn pdf_file(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
            objects.len() + 1,
            xref
        )
        .as_bytes(),
    );
    out
}

/// The repository's root (for fixtures shared with the crates).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Checks every invariant a crash must not break; panics with the details.
pub fn assert_db_consistent(sb: &Sandbox) {
    let c = sb.conn();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "integrity_check");
    // UNIQUE(item, seq) already rules out duplicate chunks; what a crash could leave is
    // chunks or text whose item is gone (the FTS index is checked against its content
    // table below).
    for (what, sql) in [
        (
            "chunks without their item",
            "SELECT COUNT(*) FROM chunks c
              WHERE NOT EXISTS (SELECT 1 FROM knowledge_files WHERE 'f' || id = c.item)
                AND NOT EXISTS (SELECT 1 FROM scraped_contents WHERE 'u' || id = c.item)",
        ),
        (
            "documents without their item",
            "SELECT COUNT(*) FROM documents d
              WHERE NOT EXISTS (SELECT 1 FROM knowledge_files WHERE 'f' || id = d.item)
                AND NOT EXISTS (SELECT 1 FROM scraped_contents WHERE 'u' || id = d.item)",
        ),
    ] {
        let n: i64 = c.query_row(sql, [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{what}");
    }
    let mismatched: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM knowledge_files f
              WHERE f.chunk_count != (SELECT COUNT(*) FROM chunks WHERE item = 'f' || f.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatched, 0, "chunk_count disagrees with the chunks table");
    drop(c);
    // The FTS index agrees with its content table.
    let rw = rusqlite::Connection::open(&sb.db).unwrap();
    rw.busy_timeout(Duration::from_secs(10)).unwrap();
    rw.execute(
        "INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')",
        [],
    )
    .expect("FTS integrity-check");
}

/// Lower-case hex SHA-256, as Trove stores a file's `sha256`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A minimal Word document whose body is `paragraphs`.
pub fn simple_docx(paragraphs: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut body = String::new();
    for p in paragraphs {
        body.push_str(&format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"));
    }
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("[Content_Types].xml", opts).unwrap();
    z.write_all(types.as_bytes()).unwrap();
    z.start_file("word/document.xml", opts).unwrap();
    z.write_all(doc.as_bytes()).unwrap();
    z.finish().unwrap();
    out.into_inner()
}
