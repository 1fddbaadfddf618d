/**
 * Splits recorded events into `cobrowse:events` batches whose JSON stays under the desk's
 * limit (LIMITS.cobrowseBatch), and joins them back on the agent's side. An event too big
 * for one batch (a full snapshot of a large page) travels as `livedesk:chunk` pieces of
 * its JSON text, in order, in consecutive batches.
 */

export interface ChunkEvent {
  type: "livedesk:chunk";
  /** Same for every piece of one event. */
  id: string;
  index: number;
  count: number;
  /** A slice of the event's JSON text. */
  data: string;
}

/** UTF-8 length of a well-formed string, as the desk measures it (Buffer.byteLength). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a surrogate pair is 4 bytes: 2 for each half
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return bytes;
}

const size = (v: unknown) => utf8Length(JSON.stringify(v));
let chunkIds = 0;

function chunk(json: string, budget: number): ChunkEvent[] {
  const id = `${Date.now().toString(36)}-${++chunkIds}`;
  const pieces: string[] = [];
  // the text is escaped once more inside the chunk: measure, then shrink the slice to fit
  let n = budget;
  for (let at = 0; at < json.length; ) {
    let end = Math.min(json.length, at + n);
    for (;;) {
      // never cut a surrogate pair in two
      if (end < json.length && /[\ud800-\udbff]/.test(json[end - 1] ?? "")) end--;
      if (end <= at) end = Math.min(json.length, at + 2);
      const bytes = size([{ type: "livedesk:chunk", id, index: 1e6, count: 1e6, data: json.slice(at, end) }]);
      if (bytes <= budget) break;
      n = Math.max(1, Math.floor(((end - at) * budget) / bytes * 0.98));
      end = at + n;
    }
    pieces.push(json.slice(at, end));
    at = end;
  }
  return pieces.map((data, index) => ({ type: "livedesk:chunk", id, index, count: pieces.length, data }));
}

/** Batches of `events`, in order, each under `maxBytes` as JSON. */
export function splitEvents(events: unknown[], maxBytes: number): unknown[][] {
  const budget = maxBytes - 64;
  const batches: unknown[][] = [];
  let current: unknown[] = [];
  let used = 2;
  const push = (event: unknown, bytes: number) => {
    if (current.length > 0 && used + bytes + 1 > budget) {
      batches.push(current);
      current = [];
      used = 2;
    }
    current.push(event);
    used += bytes + 1;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = utf8Length(json);
    if (bytes + 2 <= budget) push(event, bytes);
    else for (const piece of chunk(json, budget)) push(piece, size(piece));
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const isChunk = (e: unknown): e is ChunkEvent =>
  typeof e === "object" && e !== null && (e as ChunkEvent).type === "livedesk:chunk" && typeof (e as ChunkEvent).data === "string";

/**
 * For the agent's replayer: feed it each received batch, get back whole events. Chunks
 * of an event are held until its last piece arrives; `reset()` drops what is pending
 * (call it when a session ends).
 */
export function createChunkJoiner() {
  const pending = new Map<string, string[]>();
  return {
    join(batch: unknown[]): unknown[] {
      const out: unknown[] = [];
      for (const event of batch) {
        if (!isChunk(event)) {
          out.push(event);
          continue;
        }
        const parts = pending.get(event.id) ?? [];
        parts[event.index] = event.data;
        pending.set(event.id, parts);
        if (parts.filter((p) => p !== undefined).length === event.count) {
          pending.delete(event.id);
          out.push(JSON.parse(parts.join("")));
        }
      }
      return out;
    },
    reset() {
      pending.clear();
    },
  };
}
