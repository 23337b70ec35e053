/**
 * Runs every check's doc samples through the check on a real (embedded) database, as
 * typescript-eslint does with its rule docs: each `sql bad` block must make the check fire, each
 * `sql good` block must leave it silent, and the fix SQL a finding carries must run and clear it.
 * Each sample gets a fresh database on the Supabase base (on the test run's real Postgres server,
 * about 0.2 s each; PGlite clones when no server runs), since samples are written to be independent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { evaluate } from '../../src/engine/evaluate.ts';
import { introspect } from '../../src/introspect/index.ts';
import type { Session } from '../../src/introspect/session.ts';
import type { Check } from '../../src/model/check.ts';
import type { Finding } from '../../src/model/finding.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { loadOn, realEngines, type Engine } from '../support/audit.ts';
import { parse as parseToml } from 'smol-toml';
import { tomlKeyLines } from '../../src/introspect/targets/index.ts';

const CHECKS_DIR = fileURLToPath(new URL('../../checks/', import.meta.url));
const EXPOSED = ['public'];

/**
 * Checks whose fix SQL is deliberately not the whole fix: the finding is a reminder that stays
 * until the object is changed another way (or the finding is suppressed with a reason). Empty
 * today: every fix SQL must clear its finding.
 */
const FIX_SQL_KEEPS_FINDING: ReadonlySet<string> = new Set<string>([]);

/** The `sql bad` / `sql good` blocks of a check's doc; none when the doc is missing (the registry test names it). */
function samples(id: string, kind: 'bad' | 'good' | 'context', lang = 'sql'): string[] {
  const path = join(CHECKS_DIR, `${id}.md`);
  if (!existsSync(path)) return [];
  const doc = readFileSync(path, 'utf8');
  return [...doc.matchAll(new RegExp('^```' + lang + ' ' + kind + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

/**
 * A sample that cannot run on the test databases (an extension they lack, a state no SQL can
 * produce) says so on its first line; the check must then be covered by its own tests.
 */
const NOT_EXECUTABLE = /^-- sample: not executable here \(.+\)/;

// Checks that read parsed policies need the parser; without it they would see parse errors.
beforeAll(() => initPolicyParser());

async function findingsOf(session: Session, check: Check): Promise<Finding[]> {
  const snapshot = await introspect(session, { exposedSchemas: EXPOSED });
  const { findings, errors } = evaluate(snapshot, [check]);
  expect(errors).toEqual([]);
  return findings.filter((f) => f.check === check.meta.id);
}

const SERVER: Engine = realEngines()[0] ?? 'pglite';
/**
 * Roles are cluster-wide on a server (a second database sees the first one's CREATE ROLE) and
 * VACUUM cannot run in the harness's multi-statement batch: such samples get an isolated PGlite.
 */
const NEEDS_ISOLATION = /\b(create\s+role|vacuum)\b/i;

/** Loads one sample (and any later SQL) on top of the Supabase base in a fresh database and hands over its session. */
async function withSample<T>(sql: string | readonly string[], use: (session: Session) => Promise<T>): Promise<T> {
  const parts = typeof sql === 'string' ? [sql] : sql;
  const session = await loadOn(parts.some((p) => NEEDS_ISOLATION.test(p)) ? 'pglite' : SERVER, ...parts);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

const summary = (findings: readonly Finding[]) => findings.map((f) => `${f.fingerprint}: ${f.message}`);

describe('doc samples', () => {
  // config.toml checks: each TOML sample is the project's config.toml, over the doc's `sql context` (if any).
  it.each(allChecks.filter((c) => c.meta.source === 'config.toml').map((check) => [check.meta.id, check] as const))(
    '%s: bad config.toml samples fire, good ones are silent',
    async (id, check) => {
      const bad = samples(id, 'bad', 'toml');
      const good = samples(id, 'good', 'toml');
      expect(bad.length, `checks/${id}.md: no \`\`\`toml bad block`).toBeGreaterThan(0);
      expect(good.length, `checks/${id}.md: no \`\`\`toml good block`).toBeGreaterThan(0);
      await withSample(samples(id, 'context').join('\n') || 'select 1', async (session) => {
        const snapshot = await introspect(session, { exposedSchemas: EXPOSED });
        const run = (toml: string) => {
          const projectConfig = { file: 'supabase/config.toml', values: parseToml(toml) as Record<string, unknown>, lines: tomlKeyLines(toml) };
          const { findings, errors } = evaluate({ ...snapshot, projectConfig }, [check]);
          expect(errors).toEqual([]);
          return findings.filter((f) => f.check === id);
        };
        for (const [i, toml] of bad.entries()) expect(run(toml).length, `toml bad #${i + 1} of checks/${id}.md raised nothing`).toBeGreaterThan(0);
        for (const [i, toml] of good.entries()) expect(summary(run(toml)), `toml good #${i + 1} of checks/${id}.md`).toEqual([]);
      });
    },
    120_000,
  );

  it.each(allChecks.filter((c) => c.meta.source !== 'config.toml').map((check) => [check.meta.id, check] as const))(
    '%s: bad samples fire, fixes and good samples are silent',
    async (id, check) => {
      const bad = samples(id, 'bad');
      const good = samples(id, 'good');
      expect(bad.length, `checks/${id}.md: no \`\`\`sql bad block (or no doc)`).toBeGreaterThan(0);
      expect(good.length, `checks/${id}.md: no \`\`\`sql good block (or no doc)`).toBeGreaterThan(0);

      for (const [i, sql] of bad.entries()) {
        if (NOT_EXECUTABLE.test(sql)) continue;
        await withSample(sql, async (session) => {
          const findings = await findingsOf(session, check);
          expect(findings.length, `sql bad #${i + 1} of checks/${id}.md raised nothing`).toBeGreaterThan(0);

          // The fix SQL the findings carry must run (after the sample, in a fresh database) and clear them.
          const fixes = findings.map((f) => f.remediation.sql).filter((s): s is string => s !== undefined);
          if (fixes.length > 0 && !FIX_SQL_KEEPS_FINDING.has(id)) {
            const fixed = new Set(findings.filter((f) => f.remediation.sql !== undefined).map((f) => f.fingerprint));
            await withSample([sql, ...fixes], async (after) => {
              expect(summary((await findingsOf(after, check)).filter((f) => fixed.has(f.fingerprint))), `fix SQL of sql bad #${i + 1}`).toEqual([]);
            });
          }
        });
      }

      for (const [i, sql] of good.entries()) {
        if (NOT_EXECUTABLE.test(sql)) continue;
        await withSample(sql, async (session) => {
          expect(summary(await findingsOf(session, check)), `sql good #${i + 1} of checks/${id}.md`).toEqual([]);
        });
      }
    },
    120_000,
  );
});
