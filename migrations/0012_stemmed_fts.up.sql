-- The keyword index stems English words (Porter, over the same unicode61 tokens with
-- diacritics removed): "running" finds "run", "indexes" finds "index" (issue 15). The index
-- is rebuilt from the chunks' text, which is unchanged; the triggers on `chunks` that keep it
-- current name the table and need no change.
DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    text,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
