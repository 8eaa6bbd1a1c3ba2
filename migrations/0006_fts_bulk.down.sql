DROP TRIGGER index_version_chunks_ai;
DROP TRIGGER index_version_chunks_ad;
DROP TRIGGER index_version_embeddings_ai;
DROP TRIGGER index_version_embeddings_ad;
DROP TABLE index_version;
-- Chunks inserted while 0006 was applied are already in the FTS index.
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
