import type { DeskDeps } from "../desk/deps.js";
import type { Limiter } from "../limits.js";
import type { Logger } from "../log.js";
import type { Broadcaster } from "../realtime/broadcast.js";

export interface HttpDeps {
  deps: DeskDeps;
  limiter: Limiter;
  log: Logger;
  broadcast: Broadcaster;
}
