-- What a file's format says about it, shown in its details: an e-mail's From, To, Cc and
-- Date, as a JSON array of [label, value] pairs. NULL: nothing.
ALTER TABLE knowledge_files ADD COLUMN metadata TEXT;
