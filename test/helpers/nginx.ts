/** nginx in front of desk instances, from deploy/nginx.conf with test ports substituted. */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis.js";

export interface NginxHandle {
  url: string;
  stop(): Promise<void>;
}

export function nginxBin(): string {
  const bin = process.env.NGINX_BIN ?? ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  if (!bin) throw new Error("nginx not found: install it with `apt-get install -y nginx` or set NGINX_BIN");
  return bin;
}

export async function startNginx(upstreamPorts: number[]): Promise<NginxHandle> {
  const bin = nginxBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "livedesk-nginx-"));
  for (const sub of ["logs", "tmp"]) mkdirSync(join(dir, sub));
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join("\n");
  const conf = readFileSync("deploy/nginx.conf", "utf8")
    .replace(/^\s*server desk\d:3000.*\n/gm, "")
    .replace("ip_hash;", `ip_hash;\n${servers}`)
    .replace("listen 80;", `listen 127.0.0.1:${port};`)
    .replace("worker_processes auto;", "worker_processes 1;");
  if (conf.includes("desk1:3000")) throw new Error("deploy/nginx.conf changed shape; update the test helper");
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `${k}_temp_path ${join(dir, "tmp", k)};`).join(" ");
  writeFileSync(join(dir, "nginx.conf"), conf.replace("http {", `http {\n  ${temp}\n  access_log off;`));
  const child = spawn(bin, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "logs", "error.log"), "-g", `daemon off; pid ${join(dir, "nginx.pid")};`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.on("exit", () => child.kill("SIGKILL"));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`nginx did not come up: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
