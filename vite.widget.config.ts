/**
 * The embeddable widget: `dist/client/widget.js` (the loader, one IIFE, budget 5 KB
 * gzipped) and `dist/client/widget-cobrowse.js` (the co-browse recorder, loaded by the
 * loader only once the customer allows it). Runs after the main client build, whose
 * output it must not wipe.
 */
import { fileURLToPath } from "node:url";
import { build, defineConfig, type InlineConfig, type Plugin } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const defaultOutDir = here("./dist/client");

const iife = (entry: string, name: string, fileName: string, outDir = defaultOutDir): InlineConfig => ({
  configFile: false,
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir,
    emptyOutDir: false,
    target: "es2019",
    copyPublicDir: false,
    lib: { entry: here(entry), formats: ["iife"], name, fileName: () => fileName },
  },
});

/** IIFE builds take one entry each: the recorder is built once the loader is written. */
function recorderBundle(): Plugin {
  let outDir = defaultOutDir;
  return {
    name: "livedesk-widget-recorder",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      await build(iife("./client/widget/recorder.ts", "LiveDeskRecorder", "widget-cobrowse.js", outDir));
    },
  };
}

const { configFile: _inline, ...loader } = iife("./client/widget/widget.ts", "LiveDeskWidget", "widget.js");

export default defineConfig({ ...loader, logLevel: "info", plugins: [recorderBundle()] });
