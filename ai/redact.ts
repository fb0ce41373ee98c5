// Removes credentials from text before it leaves the process (prompts for cloud models, logs
// shown in chat). Patterns err on the side of redacting: a lost log detail is cheaper than a
// leaked key.

export const REDACTED = "[REDACTED]";

interface Rule {
  name: string;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const SECRET_KEY_WORDS =
  "(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|authorization)";

const RULES: Rule[] = [
  {
    name: "pem private key",
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    replace: () => `[REDACTED PRIVATE KEY]`,
  },
  {
    // scheme://user:password@host (database URLs, Redis URLs, proxies, …)
    name: "url credentials",
    pattern: /\b([a-z][a-z0-9+.-]{1,20}:\/\/)([^\s:@/'"]*):([^\s/'"]+)@/gi,
    replace: (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`,
  },
  {
    name: "bearer token",
    pattern: /\b(Bearer)(\s+)[A-Za-z0-9._~+/=:-]{8,}/gi,
    replace: (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`,
  },
  {
    // "Basic" alone is too common a word; only as an Authorization header value
    name: "authorization header",
    pattern: /\b(Authorization\s*[:=]\s*["']?(?:Basic|Token|Bot)\s+)[A-Za-z0-9._~+/=:-]{4,}/gi,
    replace: (_m, prefix: string) => `${prefix}${REDACTED}`,
  },
  {
    name: "jwt",
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    replace: () => REDACTED,
  },
  {
    name: "telegram bot token",
    // also inside Bot API URLs: https://api.telegram.org/bot<token>/sendMessage
    pattern: /(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
    replace: () => REDACTED,
  },
  {
    name: "aws access key id",
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    name: "vendor api key",
    // Anthropic/OpenAI `sk-…`, Google `AIza…`, GitHub `ghp_…`, Slack `xox?-…`
    pattern:
      /\b(?:sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})/g,
    replace: () => REDACTED,
  },
  {
    // "password": "…" in JSON
    name: "json secret field",
    pattern: new RegExp(
      `("[A-Za-z0-9_.-]*${SECRET_KEY_WORDS}[A-Za-z0-9_.-]*"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`,
      "gi",
    ),
    replace: (_m, key: string) => `${key}"${REDACTED}"`,
  },
  {
    // password=…, api_key: …, Password=…; (ADO-style connection strings), AWS_SECRET_ACCESS_KEY=…
    name: "secret pair",
    pattern: new RegExp(
      `\\b([A-Za-z0-9_.-]*${SECRET_KEY_WORDS}[A-Za-z0-9_.-]*)(\\s*[=:]\\s*)(['"]?)([^\\s'"&,;]+)\\3`,
      "gi",
    ),
    replace: (match: string, key: string, sep: string, quote: string, value: string) =>
      // "Authorization: Bearer [REDACTED]" was handled by the header rule; keep its scheme
      value.startsWith("[REDACTED") || /^(Bearer|Basic|Token|Bot)$/i.test(value)
        ? match
        : `${key}${sep}${quote}${REDACTED}${quote}`,
  },
];

/** Returns `text` with every recognised secret replaced by `[REDACTED]`. Idempotent. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const rule of RULES) {
    result = result.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      // replace() passes the groups, then the offset (a number), the input and named groups
      const groups = rest.slice(
        0,
        rest.findIndex((value) => typeof value === "number"),
      );
      return rule.replace(match, ...groups.map((group) => (typeof group === "string" ? group : "")));
    });
  }
  return result;
}

/** Redacts every string inside a JSON-like value; keys that name a secret lose their value. */
export function redactDeep<T>(value: T): T {
  return walk(value) as T;
}

const SECRET_KEY = new RegExp(`^[A-Za-z0-9_.-]*${SECRET_KEY_WORDS}[A-Za-z0-9_.-]*$`, "i");

function walk(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [
        key,
        SECRET_KEY.test(key) && typeof child === "string" ? REDACTED : walk(child),
      ]),
    );
  }
  return value;
}
