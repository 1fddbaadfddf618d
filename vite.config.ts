import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const desk = "http://localhost:3000";

export default defineConfig({
  root: here("./client"),
  plugins: [vue()],
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
