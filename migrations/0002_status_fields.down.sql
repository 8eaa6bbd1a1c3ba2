-- The seed's rollback. SQLite cannot drop an indexed column, so the indexes go first.
DROP INDEX idx_knowledge_files_status;
DROP INDEX idx_knowledge_files_job_id;
DROP INDEX idx_scraped_contents_status;
DROP INDEX idx_scraped_contents_job_id;

ALTER TABLE knowledge_files DROP COLUMN status;
ALTER TABLE knowledge_files DROP COLUMN job_id;
ALTER TABLE knowledge_files DROP COLUMN processing_error;

ALTER TABLE scraped_contents DROP COLUMN status;
ALTER TABLE scraped_contents DROP COLUMN job_id;
ALTER TABLE scraped_contents DROP COLUMN processing_error;
