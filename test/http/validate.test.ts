// The depth check that runs before any webhook body is parsed: brackets inside strings (escaped
// quotes included) do not count, and the first level past the limit is found without recursion.
import { describe, expect, it } from "vitest";
import { jsonTooDeep, MAX_JSON_DEPTH, parseJsonBody } from "../../http/validate.js";
import { ApiError } from "../../http/errors.js";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("jsonTooDeep", () => {
  it("allows exactly the limit and refuses one level more", () => {
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTooDeep(Buffer.from(nested(10_000)))).toBe(true);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const text = JSON.stringify({ a: "[".repeat(1_000), b: `\\"${"{".repeat(1_000)}`, c: [[{}]] });
    expect(jsonTooDeep(text)).toBe(false);
    expect(JSON.parse(text)).toBeDefined();
  });

  it("counts the brackets after a string that ends in an escaped backslash", () => {
    const deep = nested(MAX_JSON_DEPTH + 1);
    const text = `{"a":"x\\\\","b":${deep},"c":"\\\\\\""}`;
    expect(JSON.parse(text)).toMatchObject({ a: "x\\", c: '\\"' });
    expect(jsonTooDeep(text)).toBe(true);
    expect(jsonTooDeep(Buffer.from(`{"a":"x\\\\","b":${nested(MAX_JSON_DEPTH - 1)}}`))).toBe(false);
  });
});

describe("parseJsonBody", () => {
  it("answers 400 for a body too deep and for one that is not JSON", () => {
    for (const body of [nested(10_000), "{not json"]) {
      const error = (() => {
        try {
          parseJsonBody(body);
          return undefined;
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
    }
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
  });
});
