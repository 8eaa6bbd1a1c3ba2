DROP TRIGGER chunks_au;
DROP TRIGGER chunks_ad;
DROP TRIGGER chunks_ai;
DROP TABLE chunks_fts;
DROP TABLE chunks;
DROP TABLE documents;
DROP INDEX idx_scraped_contents_url;
DROP INDEX idx_scraped_contents_sha256;
DROP INDEX idx_knowledge_files_sha256;
DROP INDEX idx_knowledge_files_path;

ALTER TABLE scraped_contents DROP COLUMN crawl_root;
ALTER TABLE scraped_contents DROP COLUMN crawl_depth;
ALTER TABLE scraped_contents DROP COLUMN ignore_robots;
ALTER TABLE scraped_contents DROP COLUMN duplicate_of;
ALTER TABLE scraped_contents DROP COLUMN chunk_count;
ALTER TABLE scraped_contents DROP COLUMN size;
ALTER TABLE scraped_contents DROP COLUMN sha256;
ALTER TABLE scraped_contents DROP COLUMN last_modified;
ALTER TABLE scraped_contents DROP COLUMN etag;
ALTER TABLE scraped_contents DROP COLUMN http_status;
ALTER TABLE scraped_contents DROP COLUMN mime;
ALTER TABLE scraped_contents DROP COLUMN final_url;

ALTER TABLE knowledge_files DROP COLUMN duplicate_of;
ALTER TABLE knowledge_files DROP COLUMN chunk_count;
ALTER TABLE knowledge_files DROP COLUMN kind;
