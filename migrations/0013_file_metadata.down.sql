ALTER TABLE knowledge_files DROP COLUMN metadata;
