export const LEVELS = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Level = (typeof LEVELS)[number];

/** Lower is more severe. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** True when `level` is at least as severe as `threshold`. */
export function atLeast(level: Level, threshold: Level): boolean {
  return levelRank(level) <= levelRank(threshold);
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}
