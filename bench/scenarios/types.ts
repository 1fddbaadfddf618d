/** One system's numbers for one scenario, by metric key. */
export type Values = Record<string, number>;

export interface Metric {
  key: string;
  label: string;
  unit: string;
  /** Which way is better (for reading the ratio); `info` for context rows. */
  better: "lower" | "higher" | "info";
}
