-- The seed's "Database Changes for Scalability Features", on SQLite.
-- status: nullable as in the seed (NULL reads as completed), default pending, four values.
ALTER TABLE knowledge_files ADD COLUMN status TEXT DEFAULT 'pending'
    CHECK (status IS NULL OR status IN ('pending', 'processing', 'completed', 'failed'));
ALTER TABLE knowledge_files ADD COLUMN job_id TEXT;
ALTER TABLE knowledge_files ADD COLUMN processing_error TEXT;

ALTER TABLE scraped_contents ADD COLUMN status TEXT DEFAULT 'pending'
    CHECK (status IS NULL OR status IN ('pending', 'processing', 'completed', 'failed'));
ALTER TABLE scraped_contents ADD COLUMN job_id TEXT;
ALTER TABLE scraped_contents ADD COLUMN processing_error TEXT;

-- SQLite index names are global to the schema: the seed's idx_status / idx_job_id, per table.
CREATE INDEX idx_knowledge_files_status ON knowledge_files (status);
CREATE INDEX idx_knowledge_files_job_id ON knowledge_files (job_id);
CREATE INDEX idx_scraped_contents_status ON scraped_contents (status);
CREATE INDEX idx_scraped_contents_job_id ON scraped_contents (job_id);

-- Existing records were processed synchronously: they are complete.
UPDATE knowledge_files SET status = 'completed';
UPDATE scraped_contents SET status = 'completed';
