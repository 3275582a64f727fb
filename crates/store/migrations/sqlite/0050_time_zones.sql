-- X6: times are shown in the viewer's zone: the account's, unless the
-- member chose its own.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE members ADD COLUMN time_zone TEXT;
