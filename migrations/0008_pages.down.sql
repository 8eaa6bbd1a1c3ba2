DROP TRIGGER chunks_au;
CREATE TRIGGER chunks_au AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
ALTER TABLE scraped_contents DROP COLUMN extractor;
ALTER TABLE knowledge_files DROP COLUMN extractor;
ALTER TABLE chunks DROP COLUMN page_end;
ALTER TABLE chunks DROP COLUMN page_start;
