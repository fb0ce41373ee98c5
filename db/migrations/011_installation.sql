-- One id per database life, made when this database was first migrated. Redis keys and queued jobs
-- that name rows of this database (incident ids, action ids) live under it, so a rebuilt database
-- or a second installation on the same Redis prefix never meets the jobs of another one, whose
-- `INC-…-0001` or action 1 is a different row with the same name.
CREATE TABLE installation (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  only_one boolean NOT NULL DEFAULT true UNIQUE CHECK (only_one)
);
INSERT INTO installation (id) VALUES (substr(md5(gen_random_uuid()::text), 1, 12));
