/** The embeddable loader's weight, against its 5 KB gzipped budget (SPEC section 8). */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

export const WIDGET_BUDGET_BYTES = 5 * 1024;

/** Size of the built `dist/client/widget.js`, or null when the client is not built (`npm run build:client`). */
export function widgetSize(repoRoot: string): { rawBytes: number; gzipBytes: number; budgetBytes: number } | null {
  const file = resolve(repoRoot, "dist/client/widget.js");
  if (!existsSync(file)) return null;
  const source = readFileSync(file);
  return { rawBytes: source.length, gzipBytes: gzipSync(source, { level: 9 }).length, budgetBytes: WIDGET_BUDGET_BYTES };
}

export function formatWidget(size: ReturnType<typeof widgetSize>): string {
  if (!size) return "SKIP  widget.js loader ≤ 5 KB gzipped: not built (npm run build:client)";
  const kb = (n: number) => (n / 1024).toFixed(2);
  const verdict = size.gzipBytes <= size.budgetBytes ? "PASS" : "MISS";
  return `${verdict}  widget.js loader ≤ 5 KB gzipped: ${kb(size.gzipBytes)} KB (${kb(size.rawBytes)} KB raw)`;
}
