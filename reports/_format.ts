import type { Finding } from '../src/model/finding.ts';
/** Shared text helpers for reporters: terminal-safe strings and colours. */
// The escaping itself lives in src/model: the CLI's stderr lines and generated SQL comments use it too.
export { terminalSafe, terminalSafeMultiline, visibleText } from '../src/model/visible.ts';

export interface Palette {
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  gray(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  magenta(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function palette(color: boolean): Palette {
  if (!color) {
    const id = (s: string) => s;
    return { red: id, yellow: id, blue: id, gray: id, bold: id, green: id, magenta: id };
  }
  return {
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    gray: wrap(90, 39),
    bold: wrap(1, 22),
    green: wrap(32, 39),
    magenta: wrap(35, 39),
  };
}

/**
 * One line for a finding's exploit proof: its status, the row counts that changed (as the signed-in
 * user, before → after the write) and whether the fix was verified. Null when no proof ran.
 */
export function proofText(f: Finding): string | null {
  const proof = f.proof;
  if (!proof) return null;
  const changed = Object.keys(proof.after ?? {})
    .filter((k) => proof.before?.[k] !== proof.after?.[k])
    .slice(0, 5)
    .map((k) => `${k} ${proof.before?.[k] ?? '?'} → ${proof.after?.[k] ?? '?'}`);
  const fix = proof.fixVerified ? `; fix ${proof.fixVerified.status.replace('_', ' ')}${proof.fixVerified.status === 'verified' ? '' : ` (${proof.fixVerified.reason})`}` : '';
  const status = proof.status.replace('_', ' ');
  if (proof.kind === 'reach' || proof.kind === 'bypass' || proof.status === 'not_attempted') return `${status}: ${proof.reason.replace(/^not attempted: /, '')}${fix}`;
  return `${status}${changed.length > 0 ? `: rows visible to the user before → after the write: ${changed.join(', ')}` : ` (${proof.reason})`}${fix}`;
}
