/**
 * Seeded generators of hostile values: odd types, huge and strange strings, deep nesting,
 * prototype keys, query operators. The same seed gives the same run, so a failure found
 * once can be replayed.
 */

export interface Rng {
  /** [0, 1) */
  next(): number;
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, good enough to drive a fuzzer. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max) => Math.floor(next() * max),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

export const NASTY_STRINGS = [
  "",
  " ",
  "\t\n\r",
  "\u0000",
  "\uD800",
  "\uDFFF\uD800",
  "\u202Eevil",
  "\uFEFF",
  "\u200B\u200D",
  "👩‍👩‍👧‍👦🏳️‍🌈",
  "Ω≈ç√∫˜µ≤≥÷",
  "ﷺ",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "javascript:alert(1)",
  "'; DROP TABLE messages;--",
  '{"$gt":""}',
  "$where",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "../../../../etc/passwd",
  "%00%2e%2e%2f",
  "%s%s%s%n",
  "${process.exit()}",
  "{{constructor.constructor('return process')()}}",
  "NaN",
  "-1",
  "1e309",
  "null",
  "undefined",
  "true",
  "c.x.y",
  "a.eyJzdWIiOiJ4In0.forged",
];

export const TRICKY_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "$gt",
  "$where",
  "",
  "conversationId",
  "clientId",
  "body",
  "isTyping",
  "afterSeq",
  "status",
  "mine",
  "allow",
  "events",
  "nodeId",
  "author",
  "seq",
  "id",
  "role",
  "isAdmin",
  "_placeholder",
  "num",
];

const NUMBERS = [0, -0, 1, -1, 0.5, 2 ** 31, -(2 ** 31), 2 ** 53, -(2 ** 53), 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2];

export function randomString(r: Rng, maxLength = 2000): string {
  switch (r.int(6)) {
    case 0:
      return r.pick(NASTY_STRINGS);
    case 1:
      return r.pick(NASTY_STRINGS).repeat(1 + r.int(50));
    case 2: {
      // random code points, including surrogate halves and control characters
      let s = "";
      const n = r.int(64);
      for (let i = 0; i < n; i++) s += String.fromCharCode(r.chance(0.2) ? r.int(0x20) : r.int(0x10000));
      return s;
    }
    case 3:
      return "x".repeat(r.int(maxLength));
    case 4:
      return r.int(1e9).toString(36);
    default:
      return `${r.pick(NASTY_STRINGS)}${r.int(1000)}${r.pick(NASTY_STRINGS)}`;
  }
}

/** Any JSON-ish value, sometimes deeply nested, sometimes with prototype keys or binary. */
export function randomValue(r: Rng, depth = 0): unknown {
  const leaf = depth > 4 || r.chance(0.45);
  if (leaf) {
    switch (r.int(8)) {
      case 0:
        return null;
      case 1:
        return undefined;
      case 2:
        return r.chance(0.5);
      case 3:
        return r.pick(NUMBERS);
      case 4:
        return r.int(2000) - 1000;
      case 5:
        return r.chance(0.05) ? Buffer.from(randomString(r, 100)) : randomString(r);
      default:
        return randomString(r, 200);
    }
  }
  switch (r.int(5)) {
    case 0:
      return Array.from({ length: r.int(6) }, () => randomValue(r, depth + 1));
    case 1:
      return deep(r, 10 + r.int(2000));
    case 2:
      return protoPayload(r);
    default:
      return randomObject(r, depth + 1);
  }
}

export function randomObject(r: Rng, depth = 0): Record<string, unknown> {
  // JSON.parse gives `__proto__` as an own key, as it would arrive on the wire
  const entries: string[] = [];
  const n = r.int(6);
  for (let i = 0; i < n; i++) {
    const key = r.chance(0.7) ? r.pick(TRICKY_KEYS) : randomString(r, 30);
    const value = JSON.stringify(randomValue(r, depth + 1) ?? null) ?? "null";
    entries.push(`${JSON.stringify(key)}:${value}`);
  }
  return JSON.parse(`{${entries.join(",")}}`) as Record<string, unknown>;
}

/** `[[[…]]]` or `{"a":{"a":…}}` `levels` deep. */
export function deep(r: Rng, levels: number): unknown {
  const key = r.pick(["a", "__proto__", "constructor", "body"]);
  const array = r.chance(0.5);
  const open = array ? "[".repeat(levels) : `{${JSON.stringify(key)}:`.repeat(levels);
  const close = array ? "]".repeat(levels) : "}".repeat(levels);
  return JSON.parse(`${open}${array ? "1" : "null"}${close}`);
}

export function protoPayload(r: Rng): Record<string, unknown> {
  return JSON.parse(
    r.pick([
      '{"__proto__":{"polluted":"yes","isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"__proto__":{"__proto__":{"polluted":"yes"}}}',
      '{"prototype":{"polluted":"yes"},"toString":"x","valueOf":1}',
    ]),
  ) as Record<string, unknown>;
}

/** A valid payload with one thing wrong: a field replaced, removed or added. */
export function mutate(r: Rng, valid: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(valid));
  const keys = Object.keys(out);
  switch (r.int(5)) {
    case 0:
      if (keys.length) out[r.pick(keys)] = randomValue(r);
      return out;
    case 1:
      if (keys.length) delete out[r.pick(keys)];
      return out;
    case 2:
      return Object.assign(protoPayload(r), out);
    case 3:
      out[r.pick(TRICKY_KEYS)] = randomValue(r);
      return out;
    default:
      return valid; // sometimes the real thing, so deeper code paths run too
  }
}

/** A frame a Socket.IO client would never send. */
export function randomFrame(r: Rng): string | Buffer {
  const event = r.pick(["message:send", "typing", "history", "conversation:close", "cobrowse:events", "x", "__proto__"]);
  switch (r.int(9)) {
    case 0:
      return `42${JSON.stringify([event, randomValue(r)])}`.slice(0, 1 + r.int(200));
    case 1:
      return `4${r.int(10)}${randomString(r, 100)}`;
    case 2:
      return `45${r.int(5)}-${JSON.stringify([event, { _placeholder: true, num: r.int(5) }])}`;
    case 3:
      return Buffer.from(randomString(r, 300));
    case 4:
      return `42${r.int(1e6)}${JSON.stringify([randomValue(r), randomValue(r)])}`;
    case 5:
      return randomString(r, 100);
    case 6:
      return `42["${event}",${"[".repeat(5000)}1${"]".repeat(5000)}]`; // deeper than JSON.stringify goes
    case 7:
      return `42${JSON.stringify([event, "y".repeat(70 * 1024)])}`; // over the 64 KiB frame limit
    default:
      return `40${JSON.stringify(randomValue(r))}`;
  }
}
