// Callback data of the drill-down's section buttons: `dd:<section|done>:<incident id>`.
import { z } from "zod";
import { DRILL_DOWN_SECTIONS, type DrillDownSection } from "../../handlers/incident-drill-down.js";

const PREFIX = "dd";
const ID = z.string().regex(/^[A-Za-z0-9_-]{1,48}$/);
const DrillDownDataSchema = z.tuple([z.literal(PREFIX), z.enum([...DRILL_DOWN_SECTIONS, "done"]), ID]);

export interface DrillDownData {
  section: DrillDownSection | "done";
  incidentId: string;
}

export function packDrillDownData(data: DrillDownData): string {
  const [, section, incidentId] = DrillDownDataSchema.parse([PREFIX, data.section, data.incidentId]);
  return `${PREFIX}:${section}:${incidentId}`;
}

export function unpackDrillDownData(data: string): DrillDownData | undefined {
  const parsed = DrillDownDataSchema.safeParse(data.split(":"));
  return parsed.success ? { section: parsed.data[1], incidentId: parsed.data[2] } : undefined;
}

/** Matches the section buttons of one incident's drill-down (and only those). */
export function drillDownPresses(incidentId: string): RegExp {
  return new RegExp(`^${PREFIX}:[a-z]+:${incidentId.replace(/[^A-Za-z0-9_-]/g, "")}$`);
}
