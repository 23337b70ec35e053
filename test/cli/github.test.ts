import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { inGithubActions, publishToGithub } from '../../src/cli/github.ts';
import type { Report } from '../../src/model/report.ts';

const dir = mkdtempSync(join(tmpdir(), 'supaudit-gh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The adapter only passes the report through to the renderers it is given.
const report = { findings: [{ fingerprint: 'rls_disabled_in_public:public.t' }] } as unknown as Report;
const renderers = {
  summary: (r: Report) => `## supaudit\n${r.findings.length} finding(s); url postgres://postgres:hunter22@db.example.com/postgres`,
  annotations: (r: Report) => r.findings.map((f) => `::error title=supaudit::${f.fingerprint}`).join('\n'),
};

describe('GitHub Actions outputs', () => {
  test('detected only when GITHUB_ACTIONS=true', () => {
    expect(inGithubActions({ GITHUB_ACTIONS: 'true' })).toBe(true);
    expect(inGithubActions({ GITHUB_ACTIONS: 'false' })).toBe(false);
    expect(inGithubActions({})).toBe(false);
  });

  test('outside Actions: nothing written, nothing printed', () => {
    const file = join(dir, 'outside.md');
    let printed = '';
    expect(publishToGithub(report, { GITHUB_STEP_SUMMARY: file }, (t) => (printed += t), renderers)).toBeNull();
    expect(printed).toBe('');
    expect(() => readFileSync(file)).toThrow();
  });

  test('in Actions: appends the summary to $GITHUB_STEP_SUMMARY (keeping what earlier steps wrote), prints annotations, masks secrets', () => {
    const file = join(dir, 'step-summary.md');
    writeFileSync(file, '# earlier step\n');
    let printed = '';
    const outcome = publishToGithub(report, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file }, (t) => (printed += t), renderers);
    expect(outcome).toEqual({ summaryFile: file, annotations: true });
    expect(readFileSync(file, 'utf8')).toBe('# earlier step\n## supaudit\n1 finding(s); url postgres://postgres:***@db.example.com/postgres\n');
    expect(printed).toBe('::error title=supaudit::rls_disabled_in_public:public.t\n');
  });

  test('in Actions without $GITHUB_STEP_SUMMARY: annotations only', () => {
    let printed = '';
    expect(publishToGithub(report, { GITHUB_ACTIONS: 'true' }, (t) => (printed += t), { summary: renderers.summary })).toEqual({ summaryFile: null, annotations: false });
    expect(printed).toBe('');
  });
});
