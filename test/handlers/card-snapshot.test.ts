// The card is built from one snapshot of the database: a change committed while the sync reads
// (the analysis, a resolution) is shown whole by the next sync, never half by this one. Half a
// change made the next sync edit the card again, which took away a keyboard a person had just
// opened (Silence's choices). On real PostgreSQL: the other transaction commits after the sync has
// read the incident and while its read of the events waits (the sync sends its reads together, so
// only the server can hold one back: the other transaction holds the events table until it commits).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addEvent, insertIncident } from "../../db/incidents.js";
import { inTransaction } from "../../db/pool.js";
import { expireSilence, insertSilence } from "../../db/silences.js";
import type { IncidentCard, Notifier } from "../../domain/card.js";
import { syncIncidentCard } from "../../handlers/sync-incident-card.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

const CHAT = "-1003000000002";
const ID = "INC-20260101-0001";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await insertIncident(
    db.pool,
    ID,
    {
      source: "alertmanager",
      fingerprint: "snapshot",
      severity: "P1",
      title: "Alert snapshot",
      labels: { alertname: "Snapshot" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
});
afterAll(async () => {
  await db.drop();
});

/** A notifier that keeps the cards it was given, each post a new message. */
function recordingNotifier(): Notifier & { cards: IncidentCard[] } {
  const cards: IncidentCard[] = [];
  let next = 1;
  return {
    cards,
    post(_place, card) {
      cards.push(card);
      return Promise.resolve({ kind: "posted", messageId: next++ });
    },
    update(_chatId, _messageId, card) {
      cards.push(card);
      return Promise.resolve({ kind: "updated" });
    },
  };
}

describe("syncIncidentCard", () => {
  it("shows a change committed while it reads either whole or not at all", async () => {
    const notifier = recordingNotifier();
    const deps = { notifier, chatIds: () => [CHAT] };
    // resolved by @bob: the incident row and its event, in one transaction, which holds the events
    // table from before the sync starts until it commits
    let eventsHeld = () => undefined as void;
    const held = new Promise<void>((resolve) => (eventsHeld = resolve));
    let commit = () => undefined as void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    const resolution = inTransaction(db.pool, async (client) => {
      await client.query("LOCK TABLE incident_events IN ACCESS EXCLUSIVE MODE");
      eventsHeld();
      await committing;
      await client.query(
        `UPDATE incidents SET status = 'resolved', resolved_at = now(), version = version + 1 WHERE id = $1`,
        [ID],
      );
      await addEvent(client, ID, "resolved", { by: "@bob" }, "@bob");
    });
    await held;
    const sync = syncIncidentCard({ ...deps, db: db.pool }, ID);
    // the sync has read the incident once its read of the events waits for the lock
    await expect
      .poll(
        async () =>
          (
            await db.pool.query<{ waiting: number }>(
              `SELECT count(*)::int AS waiting FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%incident_events%'`,
            )
          ).rows[0]?.waiting,
        { timeout: 5_000 },
      )
      .toBe(1);
    commit();
    await resolution;
    const first = await sync;
    expect(first.outcome).toBe("posted");
    const [before] = notifier.cards;
    // the state of before the resolution, all of it: open, and no line saying it was resolved
    expect(before?.status).toBe("open");
    expect(before?.history.some((entry) => entry.text.includes("@bob"))).toBe(false);
    expect(first.version).toBe(1);

    const second = await syncIncidentCard({ ...deps, db: db.pool }, ID);
    expect(second.outcome).toBe("edited");
    const after = notifier.cards[1];
    expect(after?.status).toBe("resolved");
    expect(after?.history.some((entry) => entry.text.includes("@bob"))).toBe(true);
  });

  it("holds back a card's first post while a silence matches, and edits a card already posted", async () => {
    const id = "INC-20260101-0003";
    const labels = { alertname: "Quieted", namespace: "payments" };
    await insertIncident(
      db.pool,
      id,
      {
        source: "alertmanager",
        fingerprint: "quieted",
        severity: "P2",
        title: "Alert quieted",
        labels,
        annotations: {},
        links: [],
      },
      new Date(),
    );
    const notifier = recordingNotifier();
    const deps = { notifier, chatIds: () => ["-1003000000004"], db: db.pool };
    const silence = await insertSilence(db.pool, {
      matchers: [{ name: "namespace", value: "payments", isRegex: false, isEqual: true }],
      startsAt: new Date(Date.now() - 60_000),
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: "@dana",
      comment: "maintenance",
    });
    expect((await syncIncidentCard(deps, id)).outcome).toBe("suppressed");
    expect(notifier.cards).toEqual([]);

    await expireSilence(db.pool, silence.id, "@dana");
    expect((await syncIncidentCard(deps, id)).outcome).toBe("posted");
    // a silence made once the card is in the chat does not stop the card from following the incident
    await insertSilence(db.pool, {
      matchers: [{ name: "alertname", value: "Quiet.*", isRegex: true, isEqual: true }],
      startsAt: new Date(Date.now() - 60_000),
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: "@dana",
      comment: "later",
    });
    await addEvent(db.pool, id, "taken", {}, "@erin");
    await db.pool.query("UPDATE incidents SET version = version + 1 WHERE id = $1", [id]);
    expect((await syncIncidentCard(deps, id)).outcome).toBe("edited");
    expect(notifier.cards).toHaveLength(2);
  });

  it("keeps who took the incident and its history on the card however often its alert repeated", async () => {
    const id = "INC-20260101-0002";
    await insertIncident(
      db.pool,
      id,
      {
        source: "alertmanager",
        fingerprint: "repeating",
        severity: "P2",
        title: "Alert repeating",
        labels: { alertname: "Repeating" },
        annotations: {},
        links: [],
      },
      new Date(),
    );
    await addEvent(db.pool, id, "taken", {}, "@carol");
    await addEvent(db.pool, id, "approved", { action: "RESTART_DEPLOYMENT" }, "@carol");
    // an alert repeated every minute for about four hours, as Alertmanager's repeat_interval: 1m does
    await db.pool.query(
      `INSERT INTO incident_events (incident_id, kind, actor, detail)
       SELECT $1, 'repeated', 'alertmanager', jsonb_build_object('delivery', n) FROM generate_series(1, 250) n`,
      [id],
    );
    const notifier = recordingNotifier();
    expect(
      (await syncIncidentCard({ notifier, chatIds: () => ["-1003000000003"], db: db.pool }, id)).outcome,
    ).toBe("posted");
    const [shown] = notifier.cards;
    expect(shown?.takenBy?.by).toBe("@carol");
    expect(shown?.history.map((entry) => entry.text).join("\n")).toContain("RESTART_DEPLOYMENT");
  });
});
