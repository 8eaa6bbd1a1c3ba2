ALTER TABLE knowledge_files DROP COLUMN missing_since;
