// Alerting rules from Prometheus rule files (`--rules FILE...`), for when no Prometheus is running.
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { z } from "zod";
import { SourceError, type LoadedRule, type RuleSource } from "./types.js";

const RuleFile = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.object({ alert: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }),
      ),
    }),
  ),
});

export class RuleFileSource implements RuleSource {
  readonly name = "rule files";

  constructor(private readonly files: readonly string[]) {}

  async alertRules(): Promise<LoadedRule[]> {
    const perFile = await Promise.all(this.files.map((file) => readRules(file)));
    return perFile.flat();
  }
}

async function readRules(file: string): Promise<LoadedRule[]> {
  let content: unknown;
  try {
    content = parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new SourceError(`rules: cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = RuleFile.safeParse(content);
  if (!parsed.success)
    throw new SourceError(`rules: ${file} is not a Prometheus rule file (groups[].rules[])`);
  return parsed.data.groups.flatMap((group) =>
    group.rules.flatMap((rule) =>
      rule.alert === undefined ? [] : [{ name: rule.alert, labels: rule.labels ?? {}, origin: file }],
    ),
  );
}
