/** Liveness and readiness for load balancers and orchestrators. */
import { Router } from "express";
import type { HttpDeps } from "./types.js";

export function healthRoutes({ deps }: HttpDeps, isReady: () => boolean = () => true): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    if (!isReady()) {
      res.status(503).json({ status: "shutting_down" });
      return;
    }
    try {
      await withTimeout(deps.store.ping(), 1000);
      res.json({ status: "ready", store: deps.store.kind });
    } catch {
      res.status(503).json({ status: "unavailable", store: deps.store.kind });
    }
  });
  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), ms);
    }),
  ]);
}
