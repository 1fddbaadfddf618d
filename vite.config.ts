import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import vue from "@vitejs/plugin-vue";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const desk = "http://localhost:3000";

/** In development, serve the console at `/agent` as the desk does in production. */
const agentRoute: Plugin = {
  name: "livedesk-agent-route",
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      if (req.url && /^\/agent\/?(\?|$)/.test(req.url)) req.url = req.url.replace(/^\/agent\/?/, "/agent.html");
      next();
    });
  },
};

export default defineConfig({
  root: here("./client"),
  plugins: [vue(), agentRoute],
  build: {
    outDir: here("./dist/client"),
    emptyOutDir: true,
    // Module scripts only: the desk's CSP allows no inline script.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        index: here("./client/index.html"),
        agent: here("./client/agent.html"),
      },
    },
  },
  server: {
    proxy: {
      "/api": desk,
      "/healthz": desk,
      "/socket.io": { target: desk, ws: true },
    },
  },
});
