-- The guardrail decision taken on each analysis: mode, one-line summary, every rule's verdict.
ALTER TABLE analyses ADD COLUMN decision jsonb;
