/** The protocol's size limits, in a module without zod so the client bundle stays small. */
export const LIMITS = {
  name: 80,
  topic: 120,
  body: 4000,
  clientId: 128,
  id: 64,
  /** Largest JSON body accepted by the HTTP API, in bytes. */
  httpBody: 16 * 1024,
  /** Socket.IO `maxHttpBufferSize`, in bytes. */
  socketFrame: 64 * 1024,
  /** One `cobrowse:events` batch, serialised, in bytes (stays under the frame limit). */
  cobrowseBatch: 60 * 1024,
  historyPage: 500,
} as const;
