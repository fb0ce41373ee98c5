// The small example registry a team starts its own from (registry/examples/minimal.yaml): the CLI
// accepts it, it is nobody's real network, and the README's Alertmanager snippet is exactly what
// `npm run registry -- generate` writes for it, so the two cannot drift apart.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../registry/cli.js";
import { ALERTMANAGER_FILE, generateFiles } from "../../registry/generate.js";
import { parseRegistry } from "../../registry/loader.js";
import { captureIo, ROOT, withTempDir } from "./helpers.js";

const EXAMPLE = "registry/examples/minimal.yaml";
const source = readFileSync(join(ROOT, EXAMPLE), "utf8");

describe("the minimal example registry", () => {
  it("passes `npm run registry -- validate` with full coverage", async () => {
    await withTempDir(async (dir) => {
      const { io, out, err } = captureIo();
      const code = await runCli(["validate", "--registry", join(ROOT, EXAMPLE), "--report-dir", dir], io, {});
      expect(err).toEqual([]);
      expect(code).toBe(0);
      expect(out[0]).toMatch(/minimal\.yaml: 2 services, 1 host, 5 Prometheus rules: valid$/);
      expect(out[1]).toBe("coverage 100.0% (6 of 6), minimum 100%: passed");
    });
  });

  it("is a made-up shop, not a real lab's names and addresses", () => {
    expect(source).not.toMatch(/awoooi|192\.168\.|10\.\d+\.\d+\.\d+/i);
    expect(source).toContain("shop.example");
  });

  it("generates the Alertmanager configuration the README shows, byte for byte", () => {
    const parsed = parseRegistry(source, EXAMPLE);
    if (!parsed.ok) throw new Error(`the example should load: ${JSON.stringify(parsed.issues)}`);
    const generated = generateFiles(parsed.registry)[ALERTMANAGER_FILE];
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = /^## Pointing Alertmanager at the bot\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
    const snippet = /^```yaml\n([\s\S]*?)^```$/m.exec(section)?.[1];
    expect(snippet, "a ```yaml block in the README's Alertmanager section").toBeDefined();
    expect(snippet).toBe(generated);
  });
});
