-- Index a document's chunks in FTS5 with one statement per document instead of a trigger per
-- chunk row: FTS5 flushes its pending terms at every statement savepoint, so a per-row
-- trigger wrote one tiny segment per chunk (and then merged them). See BENCHMARKS.md (c).
DROP TRIGGER chunks_ai;

-- A counter that moves whenever the set of chunks or vectors changes, so a search can tell
-- in O(1) whether its in-memory vector index is still current (counting 100k rows of
-- vectors on every query cost ~100 ms).
CREATE TABLE index_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v  INTEGER NOT NULL
);
INSERT INTO index_version (id, v) VALUES (1, 0);
CREATE TRIGGER index_version_chunks_ai AFTER INSERT ON chunks BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER index_version_chunks_ad AFTER DELETE ON chunks BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER index_version_embeddings_ai AFTER INSERT ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER index_version_embeddings_ad AFTER DELETE ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
