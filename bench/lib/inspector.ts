/**
 * Heap numbers from outside a server: it runs with `--inspect=127.0.0.1:0`; we force a
 * full GC through the inspector protocol and read `process.memoryUsage()`.
 */
import WebSocket from "ws";

export interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** The inspector's WebSocket URL from the "Debugger listening on …" line a process printed. */
export function inspectorUrl(output: string): string {
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(output);
  if (!m) throw new Error(`no inspector URL in the server's output:\n${output}`);
  return m[1]!;
}

export async function memoryAfterGc(wsUrl: string): Promise<Memory> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const waiting = new Map<number, (msg: { result?: any; error?: { message: string } }) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    // twice: the first pass can leave garbage that only finalizers released
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const res = await call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
    return JSON.parse(res.result.value) as Memory;
  } finally {
    ws.close();
  }
}
