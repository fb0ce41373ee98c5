-- Real-world intake: what an incident's card must say beyond the alert itself.
-- truncated_alerts: how many alerts the sender left out of the group (Alertmanager's
--   truncatedAlerts), the largest seen for this incident;
-- cut: what normalization cut or replaced to make the alert storable ("annotations.description cut
--   at 4096 of 100000 characters"), so the card can say "cut";
-- resolution: why a resolution needs no action and who said so ("archived in Sentry by Jane").
ALTER TABLE incidents
  ADD COLUMN truncated_alerts integer NOT NULL DEFAULT 0,
  ADD COLUMN cut jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN resolution text;
