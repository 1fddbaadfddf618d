/** Builds the desk (Express + Socket.IO) from its dependencies. Never listens. */
import { createServer, type Server as HttpServer } from "node:http";
import express from "express";
import helmet from "helmet";
import { Server } from "socket.io";
import { LIMITS } from "../shared/protocol.js";
import type { Config } from "./config.js";
import type { DeskDeps } from "./desk/deps.js";
import { agentRoutes } from "./http/agents.js";
import { authRoutes, meRoutes } from "./http/auth.js";
import { conversationRoutes } from "./http/conversations.js";
import { errorHandler, notFound } from "./http/errors.js";
import { demoRoutes } from "./http/demo.js";
import { healthRoutes } from "./http/health.js";
import { clientRoutes } from "./http/static.js";
import type { HttpDeps } from "./http/types.js";
import { createLimiter, type Limiter } from "./limits.js";
import type { Logger } from "./log.js";
import { createInflight } from "./realtime/handle.js";
import { createBroadcaster, type Broadcaster } from "./realtime/broadcast.js";
import { attachRealtime, originAllowed } from "./realtime/index.js";
import type { DeskServer } from "./realtime/types.js";
import type { Store } from "./store/store.js";
import { createMetrics } from "./metrics.js";

export interface AppOptions {
  config: Config;
  store: Store;
  log: Logger;
  /** A Socket.IO adapter factory (the Redis adapter when scaled out). */
  adapter?: Parameters<DeskServer["adapter"]>[0];
  limiter?: Limiter;
  now?: () => Date;
}

export interface DeskApp {
  app: express.Express;
  server: HttpServer;
  io: DeskServer;
  deps: DeskDeps;
  broadcast: Broadcaster;
  /** Stops timers; marks the app not ready (for graceful shutdown). */
  stop(): void;
  /** Resolves when no socket handler is in progress. */
  drain(): Promise<void>;
}

export function createApp(options: AppOptions): DeskApp {
  const { config, store, log } = options;
  const deps: DeskDeps = { store, config, now: options.now ?? (() => new Date()) };
  const limiter = options.limiter ?? createLimiter(config.rateLimits);
  let ready = true;

  const app = express();
  const server = createServer(app);
  const io: DeskServer = new Server(server, {
    maxHttpBufferSize: LIMITS.socketFrame,
    allowRequest: (req, cb) => cb(null, originAllowed(req, config.allowedOrigins)),
    // no credentials: embedding sites talk to the desk as customers, never with an agent's cookie
    cors: { origin: config.allowedOrigins },
    ...(options.adapter && { adapter: options.adapter }),
  });
  const inflight = createInflight();
  const broadcast = createBroadcaster(io, deps, log, options.adapter !== undefined, inflight.run);
  const metrics = createMetrics({ store, sockets: () => countSockets(io) });
  const realtime = attachRealtime(io, { deps, limiter, log, broadcast, inflight, metrics });
  const http: HttpDeps = { deps, limiter, log, broadcast };

  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.use(securityHeaders(config));
  app.use(healthRoutes(http, () => ready));
  app.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.use("/api", express.json({ limit: LIMITS.httpBody }));
  app.use("/api", corsForAllowedOrigins(config));
  app.use("/api/auth", authRoutes(http));
  app.use("/api/me", meRoutes(http));
  app.use("/api/agents", agentRoutes(http));
  app.use("/api/conversations", conversationRoutes(http));
  if (config.serveDemo) app.use(demoRoutes());
  app.use(clientRoutes(config.clientDir));
  app.use(notFound);
  app.use(errorHandler(log));

  return {
    app,
    server,
    io,
    deps,
    broadcast,
    stop() {
      ready = false;
      realtime.stop();
    },
    drain: () => inflight.idle(),
  };
}

function countSockets(io: DeskServer) {
  const counts = { customer: 0, agent: 0 };
  for (const socket of io.of("/").sockets.values()) {
    const role = socket.data.actor?.role;
    if (role) counts[role]++;
  }
  return counts;
}

/**
 * Only the customer page (`/`, the widget's iframe) may be framed by the sites allowed to
 * embed the widget; everything else, the agent console first, only by the desk itself.
 */
function securityHeaders(config: Config): express.RequestHandler {
  const embeddable = headersFor(["'self'", ...config.allowedOrigins]);
  const strict = headersFor(["'self'"]);
  return (req, res, next) => (req.path === "/" ? embeddable : strict)(req, res, next);
}

function headersFor(frameAncestors: string[]) {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "frame-ancestors": frameAncestors,
        "frame-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "upgrade-insecure-requests": null,
      },
    },
    // the widget's iframe is embedded by allowed origins: frame-ancestors governs that
    frameguard: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: "cross-origin" },
  });
}

/** CORS for the API, limited to the origins allowed to embed the widget. */
function corsForAllowedOrigins(config: Config): express.RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && config.allowedOrigins.includes(origin)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Allow-Headers", "Content-Type, Authorization");
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, PATCH, OPTIONS");
      if (req.method === "OPTIONS") {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
