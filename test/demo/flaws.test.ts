/**
 * The demo project documents each deliberate flaw with `-- FLAW(<check>)` above or inside the
 * statement that has it. Every one must be reported, on an object that statement creates or names,
 * and every `-- OK(<check>)` object must not be reported by that check.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { runAudit } from '../../src/engine/audit.ts';
import { resolveTarget } from '../../src/introspect/targets/index.ts';
import type { LoadedStatement } from '../../src/introspect/targets/sql-files.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';

let report: Report;

interface Marker {
  readonly kind: 'FLAW' | 'OK';
  readonly check: string;
  readonly file: string;
  readonly line: number;
  readonly statement: LoadedStatement;
  /** For a marker inside CREATE TABLE: the column defined on the next code line. */
  readonly column: string | null;
}

/** The statement a comment line belongs to: the one it sits inside, else the next one in the file. */
function statementAt(statements: readonly LoadedStatement[], file: string, line: number): LoadedStatement {
  const inFile = statements.filter((s) => s.file === file);
  const inside = inFile.filter((s) => s.line <= line && line < s.line + s.sql.split('\n').length).at(-1);
  const next = inFile.find((s) => s.line > line);
  const found = inside ?? next;
  if (!found) throw new Error(`${file}:${line}: marker after the last statement`);
  return found;
}

function markers(statements: readonly LoadedStatement[]): Marker[] {
  const files = [...new Set(statements.map((s) => s.file))];
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((text, i, lines) => {
        const m = /--\s*(FLAW|OK)\((\w+)\)/.exec(text);
        if (!m || /`-- (FLAW|OK)\(<check_id>\)/.test(text)) return [];
        const statement = statementAt(statements, file, i + 1);
        const code = statement.line <= i + 1 ? lines.slice(i + 1).find((l) => !/^\s*--/.test(l)) : undefined;
        const column = code ? (/^\s+"?(\w+)"?\s+\w/.exec(code)?.[1] ?? null) : null;
        return [{ kind: m[1] as 'FLAW' | 'OK', check: m[2]!, file, line: i + 1, statement, column }];
      }),
  );
}

const mentions = (sql: string, name: string) => sql.toLowerCase().includes(name.toLowerCase());

/** The columns a finding is about: its object's column, or the columns in its evidence. */
function columnsOf(f: Finding): readonly string[] | null {
  if (f.object.column !== undefined) return [f.object.column];
  const columns = f.evidence?.['columns'];
  return Array.isArray(columns) ? (columns as string[]) : null;
}

/** Qualified names (`public.tasks`) a statement mentions. */
const qualifiedNames = (sql: string) => [...sql.matchAll(/\b([a-z_][\w]*)\.([a-z_][\w]*)\b/gi)].map((m) => `${m[1]}.${m[2]}`.toLowerCase());

/** A finding of the check about an object the statement creates (same location) or names. */
function about(findings: readonly Finding[], marker: Marker): Finding[] {
  return findings.filter((f) => {
    if (marker.check === 'blast_radius') {
      // The role's blast-radius finding, and a write power on the statement's table in its proof.
      const names = qualifiedNames(marker.statement.sql);
      const role = report.blastRadius.find((b) => `blast_radius_${b.role}` === f.check || f.roles.includes(b.role));
      return (
        f.check.startsWith('blast_radius_') &&
        (role?.tables ?? []).some((t) => names.includes(`${t.schema}.${t.name}`.toLowerCase()) && (t.insert || t.update || t.delete))
      );
    }
    return f.check === marker.check && ((f.location?.file === marker.file && f.location.line === marker.statement.line) || mentions(marker.statement.sql, f.object.name));
  });
}

describe('the demo project', () => {
  let findings: readonly Finding[];
  let all: Marker[];
  beforeAll(async () => {
    const target = resolveTarget({ demo: true, cwd: process.cwd(), env: {} });
    const opened = await runAudit(target);
    findings = opened.report.findings;
    report = opened.report;
    // Statements as loaded (file:line of each), rebuilt from the locations the audit recorded.
    const { startEmbedded } = await import('../../src/introspect/targets/embedded.ts');
    const { migrationFiles } = await import('../../src/introspect/targets/sql-files.ts');
    const { pgliteBase } = await import('../support/audit.ts');
    const db = await startEmbedded([...migrationFiles('supabase/migrations'), 'supabase/seed.sql'], process.cwd(), { base: await pgliteBase() });
    await db.session.close();
    all = markers(db.statements);
  }, 180_000);

  test('documents flaws of many checks', () => {
    expect(new Set(all.filter((m) => m.kind === 'FLAW').map((m) => m.check)).size).toBeGreaterThan(25);
  });

  test('every FLAW is reported on the object its statement creates or names', () => {
    const missed = all.filter((m) => m.kind === 'FLAW' && about(findings, m).length === 0).map((m) => `${m.file}:${m.line} ${m.check}`);
    expect(missed).toEqual([]);
  });

  test('every escalation flaw is proven by a rolled-back exploit and its fix verified by running it again', () => {
    const proven = findings.filter((f) => f.proof).map((f) => [f.check, f.object.name, f.proof!.status, f.proof!.fixVerified?.status]);
    expect(proven.sort()).toEqual(
      [
        ['check_null_bypass', 'organization_members', 'confirmed', 'verified'],
        ['privilege_escalation', 'profiles', 'confirmed', 'verified'],
        ['storage_bucket_open', 'objects', 'confirmed', 'verified'],
        ['tenant_self_join', 'team_members', 'confirmed', 'verified'],
      ].sort(),
    );
    // Support staff: the user read every organization's audit log after setting is_support on its own profile.
    const support = findings.find((f) => f.check === 'privilege_escalation')!.proof!;
    // The seed's 30,000 entries and the lab world's two (one per owner).
    expect(support.after!['public.audit_log']).toBe(30_002);
    expect(support.before!['public.audit_log']).toBeLessThan(30_000);
    expect(report.notes.find((n) => n.area === 'proofs')?.message).toBe(
      'exploit proofs as signed-in users, rolled back: 4 confirmed, 0 refuted, 0 inconclusive; fix verified for 4',
    );
  });

  test('no OK object is reported by the check it is marked OK for', () => {
    // OK markers name one object: the statement's own (same location) is the one that must stay clean.
    const flagged = all
      .filter((m) => m.kind === 'OK')
      .filter((m) =>
        findings.some(
          (f) => f.check === m.check && f.location?.file === m.file && f.location.line === m.statement.line && (m.column === null || columnsOf(f) === null || columnsOf(f)!.includes(m.column)),
        ),
      )
      .map((m) => `${m.file}:${m.line} ${m.check}`);
    expect(flagged).toEqual([]);
  });
});
