/** The built client: `/` for customers, `/agent` for agents. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import express, { Router } from "express";

export function clientRoutes(clientDir: string): Router {
  const router = Router();
  const dir = resolve(clientDir);
  if (!existsSync(dir)) return router;
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    res.sendFile(join(dir, file), { headers: { "Cache-Control": "no-cache" } });
  };
  router.get("/", page("index.html"));
  router.get(["/agent", "/agent/"], page("agent.html"));
  router.use("/assets", express.static(join(dir, "assets"), { immutable: true, maxAge: "1y", fallthrough: false }));
  router.use(express.static(dir, { index: false }));
  return router;
}
