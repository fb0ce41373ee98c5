// GET /api/v1/playbooks (Bearer API_TOKEN): what the bot has learned, newest first, a page at a
// time (`limit`, then `cursor` from the previous page's `next`).
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { type Queryable } from "../../db/pool.js";
import { listPlaybooks } from "../../db/playbooks.js";
import type { Config } from "../../registry/config.js";
import { checkBearer } from "../auth.js";
import { parseInput } from "../validate.js";

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, { error: "must be the `next` of a previous page" })
    .optional(),
});

export const playbookRoutes: FastifyPluginAsync<{
  deps: { config: Readonly<Config>; db: Queryable };
}> = async (app, { deps }) => {
  app.addHook("onRequest", async (request) =>
    checkBearer(request.headers.authorization, deps.config.http.apiToken),
  );

  app.get("/playbooks", async (request) => {
    const query = parseInput(ListQuery, request.query, "invalid_query");
    const page = await listPlaybooks(deps.db, {
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    return { playbooks: page.items, next: page.nextCursor ?? null };
  });
};
