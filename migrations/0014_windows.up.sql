-- Windows: a chunk longer than the embedding model reads (MiniLM: 254 tokens) gets more
-- vectors, each over a window of its text the model reads whole, so its end can be found by
-- meaning too. `part` 0 is the chunk's own vector (the model reads its start), 1.. its
-- windows; `windows` (on every row) is how many vectors the text has in all, NULL on vectors
-- stored before this version (their windows are computed in the background, see
-- `ingest::index::complete_windows`).
CREATE TABLE embeddings_windows (
    model      TEXT    NOT NULL,
    text_hash  TEXT    NOT NULL,
    part       INTEGER NOT NULL DEFAULT 0,
    dims       INTEGER NOT NULL,
    vector     BLOB    NOT NULL,     -- little-endian f32 × dims, L2-normalised
    created_at INTEGER NOT NULL,
    windows    INTEGER,
    PRIMARY KEY (model, text_hash, part)
) WITHOUT ROWID;
INSERT INTO embeddings_windows (model, text_hash, part, dims, vector, created_at, windows)
    SELECT model, text_hash, 0, dims, vector, created_at, NULL FROM embeddings;
DROP TABLE embeddings;
ALTER TABLE embeddings_windows RENAME TO embeddings;
CREATE INDEX idx_embeddings_unwindowed ON embeddings (model) WHERE windows IS NULL;
CREATE TRIGGER index_version_embeddings_ai AFTER INSERT ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER index_version_embeddings_ad AFTER DELETE ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
