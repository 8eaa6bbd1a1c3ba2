-- What processing produces: detected type, content identity, extracted text and chunks.
ALTER TABLE knowledge_files ADD COLUMN kind TEXT;
ALTER TABLE knowledge_files ADD COLUMN chunk_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE knowledge_files ADD COLUMN duplicate_of TEXT;

ALTER TABLE scraped_contents ADD COLUMN final_url TEXT;
ALTER TABLE scraped_contents ADD COLUMN mime TEXT;
ALTER TABLE scraped_contents ADD COLUMN http_status INTEGER;
ALTER TABLE scraped_contents ADD COLUMN etag TEXT;
ALTER TABLE scraped_contents ADD COLUMN last_modified TEXT;
ALTER TABLE scraped_contents ADD COLUMN sha256 TEXT;
ALTER TABLE scraped_contents ADD COLUMN size INTEGER;
ALTER TABLE scraped_contents ADD COLUMN chunk_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scraped_contents ADD COLUMN duplicate_of TEXT;
ALTER TABLE scraped_contents ADD COLUMN ignore_robots INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scraped_contents ADD COLUMN crawl_depth INTEGER;
ALTER TABLE scraped_contents ADD COLUMN crawl_root INTEGER;

CREATE INDEX idx_knowledge_files_sha256 ON knowledge_files (sha256);
CREATE INDEX idx_knowledge_files_path ON knowledge_files (path);
CREATE INDEX idx_scraped_contents_sha256 ON scraped_contents (sha256);
CREATE INDEX idx_scraped_contents_url ON scraped_contents (url);

-- The whole extracted text of an item (to show a search hit in its document).
CREATE TABLE documents (
    item  TEXT PRIMARY KEY,          -- 'f<id>' or 'u<id>'
    text  TEXT NOT NULL
);

CREATE TABLE chunks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    item      TEXT    NOT NULL,      -- 'f<id>' or 'u<id>'
    seq       INTEGER NOT NULL,
    start     INTEGER NOT NULL,      -- byte range inside documents.text
    end       INTEGER NOT NULL,
    text      TEXT    NOT NULL,
    text_hash TEXT    NOT NULL,
    UNIQUE (item, seq)
);
CREATE INDEX idx_chunks_hash ON chunks (text_hash);

CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    text,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_au AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
