/** Percentiles by nearest rank over a sample (sorted in place). */
export function percentiles(sample: Float64Array | number[], ps: number[]): number[] {
  const sorted = Float64Array.from(sample).sort();
  return ps.map((p) => {
    if (sorted.length === 0) return NaN;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  });
}

export function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);
