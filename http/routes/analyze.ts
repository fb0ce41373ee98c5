// POST /api/v1/analyze: (re-)run the analysis of an incident (Bearer API_TOKEN); 202 + job id.
import type { FastifyPluginAsync } from "fastify";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getIncident } from "../../db/incidents.js";
import { type Queryable } from "../../db/pool.js";
import type { Queues } from "../../jobs/queues.js";
import type { Config } from "../../registry/config.js";
import { checkBearer } from "../auth.js";
import { ApiError } from "../errors.js";
import { parseInput } from "../validate.js";

const Body = z.strictObject({
  incident_id: z.string().regex(/^INC-\d{8}-\d{4,}$/, { error: "must look like INC-YYYYMMDD-NNNN" }),
  /** Who asked, for the timeline. */
  requested_by: z.string().min(1).max(128).default("api"),
});

export const analyzeRoutes: FastifyPluginAsync<{
  deps: { config: Readonly<Config>; db: Queryable; queues: Pick<Queues, "analyze"> };
}> = async (app, { deps }) => {
  app.post("/analyze", {
    onRequest: async (request) => checkBearer(request.headers.authorization, deps.config.http.apiToken),
    handler: async (request, reply) => {
      const body = parseInput(Body, request.body);
      const incident = await getIncident(deps.db, body.incident_id);
      if (incident === undefined)
        throw new ApiError("not_found", `incident ${body.incident_id} does not exist`);
      if (incident.status === "resolved") {
        throw new ApiError("conflict", `incident ${incident.id} is resolved; there is nothing to analyse`);
      }
      const jobId = randomUUID();
      try {
        await deps.queues.analyze.add(
          "analyze",
          { incidentId: incident.id, requestedBy: body.requested_by },
          { jobId },
        );
      } catch (error) {
        throw new ApiError("queue_unavailable", undefined, { cause: (error as Error).message });
      }
      return reply.status(202).send({ status: "queued", jobId, incident_id: incident.id });
    },
  });
};
