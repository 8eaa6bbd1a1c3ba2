DROP INDEX idx_knowledge_files_folder;
ALTER TABLE knowledge_files DROP COLUMN mtime_ms;
ALTER TABLE knowledge_files DROP COLUMN folder_id;
DROP TABLE watched_folders;
