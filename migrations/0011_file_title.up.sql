-- A file's own title, when its format names it better than its file name does (an email's
-- subject, an e-book's title): shown as the item's name. NULL: the file name.
ALTER TABLE knowledge_files ADD COLUMN title TEXT;
