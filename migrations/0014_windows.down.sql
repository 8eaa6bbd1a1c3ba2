CREATE TABLE embeddings_heads (
    model      TEXT    NOT NULL,
    text_hash  TEXT    NOT NULL,
    dims       INTEGER NOT NULL,
    vector     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;
INSERT INTO embeddings_heads (model, text_hash, dims, vector, created_at)
    SELECT model, text_hash, dims, vector, created_at FROM embeddings WHERE part = 0;
DROP TABLE embeddings;
ALTER TABLE embeddings_heads RENAME TO embeddings;
CREATE TRIGGER index_version_embeddings_ai AFTER INSERT ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER index_version_embeddings_ad AFTER DELETE ON embeddings BEGIN
    UPDATE index_version SET v = v + 1 WHERE id = 1;
END;
UPDATE index_version SET v = v + 1 WHERE id = 1;
