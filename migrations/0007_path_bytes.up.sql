-- A file's path exactly as the operating system spells it, for the few names that are
-- not valid UTF-8 (e.g. Latin-1 names on an old disk). `path` keeps a readable form
-- (invalid bytes shown as U+FFFD) for display and the monitoring queries; processing
-- opens `path_bytes` when it is set. NULL for every valid UTF-8 path.
ALTER TABLE knowledge_files ADD COLUMN path_bytes BLOB;
