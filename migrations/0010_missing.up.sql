-- A watched folder's file deleted from disk, with the keep-missing setting on: its item is
-- kept (still searchable) and marked missing since this time (ms since the epoch), until the
-- file comes back (or moves back in) or the user removes it. NULL: not missing.
ALTER TABLE knowledge_files ADD COLUMN missing_since INTEGER;
