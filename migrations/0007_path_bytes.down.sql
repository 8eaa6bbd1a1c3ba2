ALTER TABLE knowledge_files DROP COLUMN path_bytes;
