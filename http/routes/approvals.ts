// GET /api/v1/approvals/pending and POST /api/v1/execute (Bearer API_TOKEN): the API side of the
// card's Approve button, through the same use case, state change and audit log.
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { pendingApprovals } from "../../db/actions.js";
import { type Queryable } from "../../db/pool.js";
import { approveAction } from "../../handlers/approve-action.js";
import { type Queues, enqueueExecution } from "../../jobs/queues.js";
import type { Config } from "../../registry/config.js";
import { checkBearer } from "../auth.js";
import { ApiError } from "../errors.js";
import { parseInput } from "../validate.js";
import { getIncident } from "../../db/incidents.js";

const ExecuteBody = z.strictObject({
  incident_id: z.string().regex(/^INC-\d{8}-\d{4,}$/, { error: "must look like INC-YYYYMMDD-NNNN" }),
  /** Who approves, for the audit log. */
  approved_by: z.string().min(1).max(128),
});

export const approvalRoutes: FastifyPluginAsync<{
  deps: {
    config: Readonly<Config>;
    db: Queryable;
    queues: Pick<Queues, "execute" | "notify">;
    /** Why an action cannot run here (no executor configured): approving it changes nothing. */
    cannotRun?: (action: string) => string | undefined;
  };
}> = async (app, { deps }) => {
  app.addHook("onRequest", async (request) =>
    checkBearer(request.headers.authorization, deps.config.http.apiToken),
  );

  app.get("/approvals/pending", async () => ({ pending: await pendingApprovals(deps.db) }));

  app.post("/execute", async (request, reply) => {
    const body = parseInput(ExecuteBody, request.body);
    if ((await getIncident(deps.db, body.incident_id)) === undefined)
      throw new ApiError("not_found", `incident ${body.incident_id} does not exist`);
    const result = await approveAction(
      {
        db: deps.db,
        approverIds: [],
        enqueueExecution: (actionId) => enqueueExecution(deps.queues.execute, actionId),
        ...(deps.cannotRun === undefined ? {} : { cannotRun: deps.cannotRun }),
      },
      { incidentId: body.incident_id, apiActor: body.approved_by },
    );
    if (result.outcome !== "approved") throw new ApiError("conflict", result.text);
    await deps.queues.notify.add(
      "card",
      { incidentId: body.incident_id, changedAt: new Date().toISOString() },
      { jobId: `card-${result.actionId}-approved` },
    );
    return reply.status(202).send({ status: "queued", action_id: result.actionId });
  });
};
