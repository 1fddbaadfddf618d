/** What every domain function is given: the store, the config and a clock. */
import type { Config } from "../config.js";
import type { Store } from "../store/store.js";

export interface DeskDeps {
  store: Store;
  config: Config;
  now: () => Date;
}

export const isoNow = (deps: DeskDeps) => deps.now().toISOString();
