-- Pages: where each passage of a paged document (PDF) sits, so a search hit can say
-- "p. 12" and open the document there; and which reader produced an item's text.
-- Chunks indexed before this migration get their pages from a step in Rust that runs
-- right after this file (counting the form feeds that separate stored PDF pages).
ALTER TABLE chunks ADD COLUMN page_start INTEGER;   -- 1-based; NULL when not paged
ALTER TABLE chunks ADD COLUMN page_end INTEGER;
ALTER TABLE knowledge_files ADD COLUMN extractor TEXT;
ALTER TABLE scraped_contents ADD COLUMN extractor TEXT;

-- Re-index a chunk's text in FTS only when the text changes, not when its pages are set.
DROP TRIGGER chunks_au;
CREATE TRIGGER chunks_au AFTER UPDATE OF id, text ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
