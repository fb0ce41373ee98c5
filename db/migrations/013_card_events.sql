-- The events a card shows: every kind but the repeats, which the card shows as the occurrence count.
-- An alert repeated every minute writes over a thousand 'repeated' events a day; without this index
-- the card's read of its newest 200 other events walked back through all of them.
CREATE INDEX incident_events_shown ON incident_events (incident_id, id) WHERE kind <> 'repeated';
