/**
 * `/demo/`: a shop-like host page embedding the widget with the documented snippet, for
 * development and tests (served only when `config.serveDemo`). Its inline queue stub is
 * allowed by hash, not by relaxing the desk's script policy.
 *
 * The snippet loads the widget from this desk. `?desk=http://localhost:<port>` (a loopback
 * name of this same server) makes the page embed it cross-origin, e.g. the page on
 * 127.0.0.1 and the desk on localhost; that origin must then be in DESK_ALLOWED_ORIGINS.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Router, type Request } from "express";

const PLACEHOLDER = /%DESK_ORIGIN%/g;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The desk origin the page should use: "" (same origin) unless a loopback alias of this server is asked for. */
function deskOriginFor(req: Request): string {
  const asked = typeof req.query.desk === "string" ? req.query.desk : "";
  if (!asked) return "";
  try {
    const url = new URL(asked);
    const samePort = Number(url.port || (url.protocol === "https:" ? 443 : 80)) === req.socket.localPort;
    if ((url.protocol === "http:" || url.protocol === "https:") && LOOPBACK.has(url.hostname) && samePort) return url.origin;
  } catch {
    // not a URL: same origin
  }
  return "";
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

export function demoRoutes(file = resolve("client/demo/index.html")): Router {
  const router = Router();
  router.get(["/demo", "/demo/"], async (req, res, next) => {
    let template: string;
    try {
      template = await readFile(file, "utf8");
    } catch {
      return next();
    }
    const desk = deskOriginFor(req);
    const html = template.replace(PLACEHOLDER, desk);
    const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1] ?? ""));
    const sources = ["'self'", ...(desk ? [desk] : [])].join(" ");
    const policy = res.getHeader("Content-Security-Policy");
    if (typeof policy === "string") {
      res.setHeader(
        "Content-Security-Policy",
        policy
          .replace(/script-src [^;]*/, `script-src ${sources} ${hashes.join(" ")}`)
          .replace(/frame-src [^;]*/, `frame-src ${sources}`),
      );
    }
    res.setHeader("Cache-Control", "no-store");
    res.type("html").send(html);
  });
  return router;
}
