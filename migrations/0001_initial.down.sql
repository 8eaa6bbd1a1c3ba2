DROP TABLE scraped_contents;
DROP TABLE knowledge_files;
