-- Each analysis is stored once per analyze job: a job that runs again (its worker was killed after
-- storing, before finishing) finds its analysis there instead of adding a second one.
ALTER TABLE analyses ADD COLUMN job_key text;
CREATE UNIQUE INDEX analyses_once_per_job ON analyses (job_key) WHERE job_key IS NOT NULL;
