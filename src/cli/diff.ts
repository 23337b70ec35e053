/** `supaudit diff old.json new.json`: reads two JSON reports and prints what changed between them. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { palette } from '../../reports/_format.ts';
import { terminalSafe } from '../model/visible.ts';
import type { DiffInput, ReportDiff } from '../engine/diff.ts';
import { UserError } from '../model/errors.ts';
import type { Finding } from '../model/finding.ts';
import { atLeast, type Level } from '../model/level.ts';
import { redact } from '../model/redact.ts';
import { displayPath, readSmallFile } from '../config/load.ts';

export function readReport(path: string, cwd: string): DiffInput {
  const file = resolve(cwd, path);
  const shown = displayPath(file, cwd);
  if (!existsSync(file)) throw new UserError('usage', `report not found: ${shown}`, 'write reports with supaudit -f json (reports/supaudit.json)');
  // Reports of very large databases reach tens of megabytes; a device or endless file is still refused.
  const text = readSmallFile(file, shown, 'report', 1024 * 1024 * 1024);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError('usage', `${shown}: invalid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const r = value as Partial<DiffInput> & { schemaVersion?: unknown };
  if (typeof value !== 'object' || value === null || r.schemaVersion !== 1 || !Array.isArray(r.findings) || !Array.isArray(r.blastRadius)) {
    throw new UserError('usage', `${shown} is not a supaudit JSON report (schemaVersion 1)`, 'write one with supaudit -f json');
  }
  return { findings: r.findings, blastRadius: r.blastRadius, suppressed: Array.isArray(r.suppressed) ? r.suppressed : [] };
}

function line(f: Finding): string {
  const o = f.object;
  const subject = o.type === 'setting' ? `${o.schema} ${o.name}` : o.type === 'function' && o.function ? `${o.schema}.${o.function}` : `${o.schema}.${o.name}${o.column ? `.${o.column}` : ''}${o.policy ? ` policy "${o.policy}"` : ''}`;
  return `${f.level.toUpperCase().padEnd(8)} ${f.check}  ${terminalSafe(subject)}\n           ${terminalSafe(f.message)}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `${n}` : '±0';
}

export function renderDiffText(diff: ReportDiff, names: { old: string; new: string }, color: boolean): string {
  const p = palette(color);
  const out: string[] = [];
  out.push(p.bold(`supaudit diff ${terminalSafe(names.old)} → ${terminalSafe(names.new)}`));
  out.push(
    `${diff.new.length} new, ${diff.fixed.length} fixed, ${diff.changed.length} changed` + (diff.suppressed.length > 0 ? `, ${diff.suppressed.length} now suppressed` : ''),
  );
  const section = (title: string, items: readonly Finding[]) => {
    if (items.length === 0) return;
    out.push('', p.bold(`${title} (${items.length})`), ...items.map((f) => `  ${line(f)}`));
  };
  section('New', diff.new);
  section('Fixed', diff.fixed);
  section('Now suppressed', diff.suppressed);
  if (diff.changed.length > 0) {
    out.push('', p.bold(`Changed (${diff.changed.length})`));
    for (const c of diff.changed) {
      out.push(`  ${terminalSafe(c.fingerprint)}`);
      if (c.changed.includes('level')) out.push(`           level ${c.before.level} → ${c.after.level}`);
      if (c.changed.includes('message')) out.push(`           was: ${terminalSafe(c.before.message)}`, `           now: ${terminalSafe(c.after.message)}`);
    }
  }
  if (diff.scores.length > 0) {
    out.push('', p.bold('Blast radius score'));
    const width = Math.max(...diff.scores.map((s) => s.role.length));
    for (const s of diff.scores) {
      const before = s.before === null ? '—' : String(s.before);
      const after = s.after === null ? '—' : String(s.after);
      const text = `  ${terminalSafe(s.role).padEnd(width)}  ${before} → ${after} (${signed(s.delta)})`;
      out.push(s.delta > 0 ? p.red(text) : s.delta < 0 ? p.green(text) : text);
    }
  }
  return redact(out.join('\n')) + '\n';
}

/** New findings at or above the level (what `diff --fail-on` counts). */
export function newAtLeast(diff: ReportDiff, level: Level): number {
  return diff.new.filter((f) => atLeast(f.level, level)).length;
}
