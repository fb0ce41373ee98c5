// Read-only incident API (Bearer API_TOKEN).
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import {
  getIncident,
  listEvents,
  listIncidents,
  recentAlerts,
  telegramMessages,
} from "../../db/incidents.js";
import { type Queryable } from "../../db/pool.js";
import { auditTrail } from "../../db/actions.js";
import { foldsOfIncident } from "../../db/storms.js";
import { dailyUsage, incidentUsage, listAnalyses } from "../../db/analyses.js";
import { INCIDENT_SOURCES, INCIDENT_STATUSES, SEVERITIES } from "../../domain/incident.js";
import type { Config } from "../../registry/config.js";
import { checkBearer } from "../auth.js";
import { ApiError } from "../errors.js";
import { parseInput } from "../validate.js";

const csv = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((value) => value.split(",").map((item) => item.trim()))
    .pipe(z.array(z.enum(values)).min(1));

const ListQuery = z.strictObject({
  status: z
    .string()
    .transform((value) =>
      value === "active" ? INCIDENT_STATUSES.filter((status) => status !== "resolved").join(",") : value,
    )
    .pipe(csv(INCIDENT_STATUSES))
    .optional(),
  severity: csv(SEVERITIES).optional(),
  source: z.enum(INCIDENT_SOURCES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z
    .string()
    .regex(/^INC-\d{8}-\d{4,}$/)
    .optional(),
});

const IdParams = z.object({
  id: z.string().regex(/^INC-\d{8}-\d{4,}$/, { error: "must look like INC-YYYYMMDD-NNNN" }),
});

export const incidentRoutes: FastifyPluginAsync<{
  deps: { config: Readonly<Config>; db: Queryable };
}> = async (app, { deps }) => {
  app.addHook("onRequest", async (request) => {
    checkBearer(request.headers.authorization, deps.config.http.apiToken);
  });

  app.get("/incidents", async (request) => {
    const query = parseInput(ListQuery, request.query, "invalid_query");
    const incidents = await listIncidents(deps.db, {
      limit: query.limit,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.severity === undefined ? {} : { severity: query.severity }),
      ...(query.source === undefined ? {} : { source: query.source }),
      ...(query.before === undefined ? {} : { before: query.before }),
    });
    const last = incidents.at(-1);
    return { incidents, next: incidents.length === query.limit && last !== undefined ? last.id : null };
  });

  // Tokens and cost of the analyses, summed per UTC day and provider.
  app.get("/usage", async (request) => {
    const { days } = parseInput(
      z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(7) }),
      request.query,
      "invalid_query",
    );
    return { days: await dailyUsage(deps.db, days) };
  });

  app.get("/incidents/:id", async (request) => {
    const { id } = parseInput(IdParams, request.params, "invalid_query");
    const incident = await getIncident(deps.db, id);
    if (incident === undefined) throw new ApiError("not_found", `incident ${id} does not exist`);
    const [timeline, alerts, messages, analyses, usage, audit, folds] = await Promise.all([
      listEvents(deps.db, id),
      recentAlerts(deps.db, id),
      telegramMessages(deps.db, id),
      listAnalyses(deps.db, id),
      incidentUsage(deps.db, id),
      auditTrail(deps.db, id),
      // the storm summary cards that stood in for this incident's own card
      foldsOfIncident(deps.db, id),
    ]);
    return { incident, timeline, alerts, messages, analyses, usage, audit, stormFolds: folds };
  });
};
