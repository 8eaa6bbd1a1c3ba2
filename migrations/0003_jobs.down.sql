DROP TABLE events;
DROP TABLE settings;
DROP TABLE jobs;
