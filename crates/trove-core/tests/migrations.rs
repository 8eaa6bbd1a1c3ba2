//! Migrations run for real on SQLite files: fresh, upgraded from the pre-async schema,
//! rolled back and re-applied, and a newer schema refused.

use rusqlite::Connection;
use trove_core::{db, migrate, Engine, EngineConfig, ItemKind, Status};

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn indexes(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([table], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn fresh_database_is_at_latest_with_the_seed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let conn = db::open(&dir.path().join("t.db")).unwrap();
    assert_eq!(migrate::current(&conn).unwrap(), migrate::latest());
    for t in ["knowledge_files", "scraped_contents"] {
        let cols = columns(&conn, t);
        for c in ["status", "job_id", "processing_error"] {
            assert!(cols.contains(&c.to_string()), "{t} lacks {c}: {cols:?}");
        }
        let ix = indexes(&conn, t);
        assert!(ix.contains(&format!("idx_{t}_status")), "{ix:?}");
        assert!(ix.contains(&format!("idx_{t}_job_id")), "{ix:?}");
    }
    // Default pending; NULL allowed (reads as completed); anything else refused.
    conn.execute(
        "INSERT INTO knowledge_files (filename, path) VALUES ('a', '/a')",
        [],
    )
    .unwrap();
    let s: Option<String> = conn
        .query_row("SELECT status FROM knowledge_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(s.as_deref(), Some("pending"));
    conn.execute(
        "INSERT INTO knowledge_files (filename, path, status) VALUES ('b', '/b', NULL)",
        [],
    )
    .unwrap();
    let bad = conn.execute(
        "INSERT INTO knowledge_files (filename, path, status) VALUES ('c', '/c', 'done')",
        [],
    );
    assert!(
        bad.is_err(),
        "CHECK constraint must refuse unknown statuses"
    );
    let pragmas: (String, i64, i64) = conn
        .query_row("SELECT (SELECT journal_mode FROM pragma_journal_mode), (SELECT synchronous FROM pragma_synchronous), (SELECT foreign_keys FROM pragma_foreign_keys)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!(pragmas, ("wal".to_string(), 1, 1));
}

/// A database as the app left it before asynchronous processing existed.
fn legacy_db(path: &std::path::Path) {
    let mut conn = db::open_raw(path).unwrap();
    migrate::up(&mut conn, Some(1)).unwrap();
    conn.execute_batch(
        "INSERT INTO knowledge_files (filename, path, mime, size, uploaded_at, updated_at)
             VALUES ('notes.txt', '/home/a/notes.txt', 'text/plain', 120, '2024-01-02 03:04:05', '2024-01-02 03:04:09');
         INSERT INTO knowledge_files (filename, path, mime, size) VALUES ('b.pdf', '/home/a/b.pdf', 'application/pdf', 9000);
         INSERT INTO scraped_contents (url, title, scraped_at) VALUES ('https://example.com/', 'Example', '2024-01-01 00:00:00');",
    )
    .unwrap();
}

#[test]
fn old_database_is_upgraded_and_old_rows_become_completed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    legacy_db(&path);
    let engine = Engine::open(&path, EngineConfig::default()).unwrap();
    let items = engine.list(None, None, 100).unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|i| i.status == Status::Completed),
        "{items:?}"
    );
    let notes = items.iter().find(|i| i.name == "notes.txt").unwrap();
    assert_eq!(notes.location, "/home/a/notes.txt");
    assert_eq!(notes.size, Some(120));
    assert_eq!(notes.added_at, "2024-01-02T03:04:05Z");
    let web = items.iter().find(|i| i.kind == ItemKind::Url).unwrap();
    assert_eq!(web.name, "Example");
    let conn = Connection::open(&path).unwrap();
    let raw: Vec<Option<String>> = conn
        .prepare("SELECT status FROM knowledge_files UNION ALL SELECT status FROM scraped_contents")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(raw, vec![Some("completed".to_string()); 3]);
    // The seed's processing-time query works on the migrated rows: 4 s for notes.txt.
    assert!(engine
        .distribution()
        .unwrap()
        .iter()
        .any(|b| b.seconds == 4 && b.count == 1));
}

#[test]
fn null_status_reads_as_completed_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let engine = Engine::open(&path, EngineConfig::default()).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO knowledge_files (filename, path, status) VALUES ('n', '/n', NULL)",
        [],
    )
    .unwrap();
    let items = engine.list(Some(Status::Completed), None, 10).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, Status::Completed);
    let c = engine.counts(None).unwrap();
    assert_eq!((c.completed, c.pending, c.total), (1, 0, 1));
    assert!(engine
        .list(Some(Status::Pending), None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn rollback_to_0001_keeps_data_and_up_again_restores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    legacy_db(&path);
    let mut conn = db::open(&path).unwrap();
    // Work done under the new schema must not block the rollback.
    conn.execute(
        "UPDATE knowledge_files SET status = 'failed', processing_error = 'x' WHERE id = 2",
        [],
    )
    .unwrap();
    let rolled = migrate::down(&mut conn, Some(1)).unwrap();
    assert_eq!(rolled, (2..=migrate::latest()).rev().collect::<Vec<_>>());
    assert_eq!(migrate::current(&conn).unwrap(), 1);
    for t in ["knowledge_files", "scraped_contents"] {
        let cols = columns(&conn, t);
        for c in ["status", "job_id", "processing_error"] {
            assert!(!cols.contains(&c.to_string()), "{t} still has {c}");
        }
        assert!(
            indexes(&conn, t).is_empty(),
            "{t} indexes left: {:?}",
            indexes(&conn, t)
        );
    }
    let rows: Vec<(String, String, i64)> = conn
        .prepare("SELECT filename, path, size FROM knowledge_files ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows[0],
        ("notes.txt".into(), "/home/a/notes.txt".into(), 120)
    );
    assert_eq!(rows.len(), 2);
    let title: String = conn
        .query_row("SELECT title FROM scraped_contents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(title, "Example");
    // And forward again: the rows come back completed.
    migrate::up(&mut conn, None).unwrap();
    assert_eq!(migrate::current(&conn).unwrap(), migrate::latest());
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM knowledge_files WHERE status = 'completed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "ok"
    );
}

#[test]
fn one_step_down_only_undoes_the_last_migration() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.db")).unwrap();
    let latest = migrate::latest();
    assert_eq!(migrate::down(&mut conn, None).unwrap(), vec![latest]);
    assert_eq!(migrate::current(&conn).unwrap(), latest - 1);
    let st = migrate::status(&conn).unwrap();
    assert!(st
        .migrations
        .iter()
        .filter(|m| m.version < latest)
        .all(|m| m.applied_at.is_some()));
    assert!(st
        .migrations
        .iter()
        .find(|m| m.version == latest)
        .unwrap()
        .applied_at
        .is_none());
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(db::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = db::open(&path).expect_err("must refuse a newer schema");
    let msg = err.to_string();
    assert!(
        msg.contains("newer version of Trove") && msg.contains("999"),
        "{msg}"
    );
    assert!(Engine::open(&path, EngineConfig::default()).is_err());
}

/// Chunks of a PDF indexed at version 7 get their pages from migration 8; a text file's
/// chunks stay without pages, even if its text holds a form feed.
#[test]
fn pdf_chunks_indexed_before_version_8_get_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut conn = db::open(&path).unwrap();
    migrate::down(&mut conn, Some(7)).unwrap();
    let pdf = "first page words\x0csecond page words\x0c\x0cfourth page words";
    let txt = "a text file\x0cwith a form feed";
    conn.execute_batch(&format!(
        "INSERT INTO knowledge_files (id, filename, path, mime, status) VALUES
             (1, 'a.pdf', '/a.pdf', 'application/pdf', 'completed'),
             (2, 'b.txt', '/b.txt', 'text/plain', 'completed');
         INSERT INTO documents (item, text) VALUES ('f1', '{pdf}'), ('f2', '{txt}');"
    ))
    .unwrap();
    let at = |text: &str, s: &str| text.find(s).unwrap() as i64;
    let mut ins = conn
        .prepare("INSERT INTO chunks (item, seq, start, end, text, text_hash) VALUES (?1, ?2, ?3, ?4, 'words', '')")
        .unwrap();
    // f1: page 1; pages 2–4 (across the empty page 3); page 4.
    for (seq, (a, b)) in [
        (0, at(pdf, "second")),
        (at(pdf, "second"), pdf.len() as i64),
        (at(pdf, "fourth"), pdf.len() as i64),
    ]
    .into_iter()
    .enumerate()
    {
        ins.execute(rusqlite::params!["f1", seq as i64, a, b])
            .unwrap();
    }
    ins.execute(rusqlite::params!["f2", 0, 0, txt.len() as i64])
        .unwrap();
    drop(ins);
    conn.execute_batch("INSERT INTO chunks_fts (rowid, text) SELECT id, text FROM chunks")
        .unwrap();
    migrate::up(&mut conn, None).unwrap();
    // Setting pages leaves the keyword index as it was, and consistent.
    conn.execute_batch("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
        .unwrap();
    let found: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'words'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 4);
    let pages: Vec<(String, Option<i64>, Option<i64>)> = conn
        .prepare("SELECT item, page_start, page_end FROM chunks ORDER BY item, seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        pages,
        vec![
            (s("f1"), Some(1), Some(1)),
            (s("f1"), Some(2), Some(4)),
            (s("f1"), Some(4), Some(4)),
            (s("f2"), None, None),
        ]
    );
}

/// A new database rolled back to `version`.
fn rolled_back_to(version: u32) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.db")).unwrap();
    migrate::down(&mut conn, Some(version)).unwrap();
    (dir, conn)
}

/// Version 12 stems the keyword index: chunks indexed before it are found by another form of
/// their words once it has run, and not after rolling it back; the index stays consistent with
/// the chunks both ways, and the triggers on `chunks` keep updating it.
#[test]
fn keyword_index_is_rebuilt_stemmed_at_version_12_and_back() {
    let (_dir, mut conn) = rolled_back_to(11);
    conn.execute_batch(
        "INSERT INTO knowledge_files (id, filename, path, status) VALUES (1, 'a.txt', '/a.txt', 'completed');
         INSERT INTO documents (item, text) VALUES ('f1', 'herons running over indexes');
         INSERT INTO chunks (item, seq, start, end, text, text_hash)
              VALUES ('f1', 0, 0, 27, 'herons running over indexes', '');
         INSERT INTO chunks_fts (rowid, text) SELECT id, text FROM chunks;",
    )
    .unwrap();
    let count = |conn: &Connection, q: &str| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?1",
            [q],
            |r| r.get(0),
        )
        .unwrap()
    };
    let check = |conn: &Connection| {
        conn.execute_batch("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
            .unwrap()
    };
    assert_eq!(count(&conn, "run"), 0);
    assert_eq!(count(&conn, "running"), 1);
    migrate::up(&mut conn, None).unwrap();
    check(&conn);
    assert_eq!(count(&conn, "run"), 1);
    assert_eq!(count(&conn, "heron AND index"), 1);
    // A chunk deleted afterwards leaves the stemmed index through the trigger.
    conn.execute_batch("DELETE FROM chunks").unwrap();
    check(&conn);
    assert_eq!(count(&conn, "run"), 0);
    conn.execute_batch(
        "INSERT INTO chunks (item, seq, start, end, text, text_hash)
              VALUES ('f1', 0, 0, 27, 'herons running over indexes', '');
         INSERT INTO chunks_fts (rowid, text) SELECT id, text FROM chunks;",
    )
    .unwrap();
    migrate::down(&mut conn, Some(11)).unwrap();
    check(&conn);
    assert_eq!(count(&conn, "run"), 0);
    assert_eq!(count(&conn, "running"), 1);
}

#[test]
fn file_metadata_column_comes_with_version_13_and_goes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.db")).unwrap();
    assert!(columns(&conn, "knowledge_files").contains(&"metadata".to_string()));
    conn.execute(
        "INSERT INTO knowledge_files (filename, path, metadata) VALUES ('a.eml', '/a.eml', '[[\"From\",\"ann\"]]')",
        [],
    )
    .unwrap();
    migrate::down(&mut conn, Some(12)).unwrap();
    assert!(!columns(&conn, "knowledge_files").contains(&"metadata".to_string()));
    let n: i64 = conn
        .query_row("SELECT count(*) FROM knowledge_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "rolling back keeps the rows");
    migrate::up(&mut conn, None).unwrap();
    assert!(columns(&conn, "knowledge_files").contains(&"metadata".to_string()));
}

/// Version 14 gives vectors a part (0: the chunk's own, 1..: its windows) and a window
/// count, unknown for vectors stored before; rolling back keeps each chunk's own vector.
#[test]
fn vectors_get_parts_with_version_14_and_keep_their_own_without() {
    let (_dir, mut conn) = rolled_back_to(13);
    conn.execute_batch(
        "INSERT INTO embeddings (model, text_hash, dims, vector, created_at) VALUES ('m', 'h', 1, x'0000803f', 7);",
    )
    .unwrap();
    migrate::up(&mut conn, None).unwrap();
    let row: (i64, Option<i64>, Vec<u8>, i64) = conn
        .query_row(
            "SELECT part, windows, vector, created_at FROM embeddings WHERE text_hash = 'h'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, (0, None, vec![0, 0, 0x80, 0x3f], 7));
    conn.execute_batch(
        "UPDATE embeddings SET windows = 2;
         INSERT INTO embeddings (model, text_hash, part, dims, vector, created_at, windows)
              VALUES ('m', 'h', 1, 1, x'00000000', 8, 2);",
    )
    .unwrap();
    let v = |c: &Connection| -> i64 {
        c.query_row("SELECT v FROM index_version", [], |r| r.get(0))
            .unwrap()
    };
    let before = v(&conn);
    migrate::down(&mut conn, Some(13)).unwrap();
    assert!(!columns(&conn, "embeddings").contains(&"part".to_string()));
    let kept: Vec<Vec<u8>> = conn
        .prepare("SELECT vector FROM embeddings")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        kept,
        [vec![0, 0, 0x80, 0x3f]],
        "the chunk's own vector, not its window's"
    );
    assert!(v(&conn) > before, "a loaded vector index sees the change");
    // The rebuilt table still moves the stamp.
    conn.execute_batch("DELETE FROM embeddings").unwrap();
    assert!(v(&conn) > before + 1);
}
