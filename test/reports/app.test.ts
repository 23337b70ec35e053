/**
 * The "App usage" section of the text and Markdown reports: what it counts and lists, and that
 * names and paths from the app's code (anyone can name a file or a table) are escaped like
 * everything from the database.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { renderMarkdown } from '../../reports/md.ts';
import { renderText } from '../../reports/text.ts';
import { withAppUsage } from '../../src/engine/app-usage.ts';
import type { AppUsage } from '../../src/model/app.ts';
import type { Report } from '../../src/model/report.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { auditPglite } from '../support/audit.ts';

const HOSTILE_FILE = 'src/\u001b[31mred|<b>.ts';

const USAGE: AppUsage = {
  files: 3,
  bytes: 900,
  languages: { js: 2, python: 1 },
  complete: true,
  calls: [
    { kind: 'table', name: 'notes', operations: ['select'], file: 'src/notes.ts', line: 3, side: 'client', serviceRole: false, language: 'js' },
    { kind: 'table', name: 'x|<script>', operations: ['insert'], file: HOSTILE_FILE, line: 9, side: 'client', serviceRole: false, language: 'js' },
    { kind: 'rpc', name: 'cleanup', operations: ['call'], file: 'jobs/clean.py', line: 5, side: 'server', serviceRole: true, language: 'python' },
  ],
  dynamic: [{ kind: 'rpc', expression: 'rpc(name)', file: 'src/rpc.ts', line: 2, side: 'client', serviceRole: false, language: 'js' }],
  notes: ['1 source file over 1024 KB not read (generated or bundled code)'],
};

describe('App usage section', () => {
  let base: Report;
  let report: Report;
  let snapshot: Snapshot;
  beforeAll(async () => {
    const audited = await auditPglite(`
      create table public.notes (id int primary key);
      create table public.archive (id int primary key);
      grant select on public.archive to anon;
      create function public.old_job() returns int language sql as 'select 1';
    `);
    ({ report: base, snapshot } = audited);
    report = withAppUsage(audited.report, snapshot, USAGE, 'web');
  });

  test('text: counts, dynamic calls, what the app does not use, unknown names, notes', () => {
    const text = renderText(report, { color: false });
    const section = text.slice(text.indexOf('App usage'), text.indexOf('\n\n', text.indexOf('App usage')));
    expect(section.split('\n')).toEqual([
      'App usage (web) — 3 files read (js 2, python 1); 3 calls (2 table, 1 rpc), 1 dynamic, 1 with the service role',
      '  - dynamic calls: src/rpc.ts:2 rpc(name): their names are not known, so what the app does not name is "not seen", not "unused"',
      '  - not used by the app, open to the API (candidates to close): public.archive (anon, authenticated)',
      '  - not seen in the app, open to the API: public.old_job() (anon, authenticated)',
      '  - called by the app, missing from the audited database (a typo, a schema not exposed, a bucket made in the dashboard, a migration the audit skipped): x|<script> at src/\\u001b[31mred|<b>.ts:9, cleanup() at jobs/clean.py:5',
      '  - note: 1 source file over 1024 KB not read (generated or bundled code)',
    ]);
    expect(text).not.toContain('\u001b');
  });

  test('Markdown: the same lines, table syntax and markup escaped', () => {
    const md = renderMarkdown(report);
    const section = md.slice(md.indexOf('## App usage'), md.indexOf('\n## ', md.indexOf('## App usage') + 1));
    expect(section).toContain('`web`: 3 files read (js 2, python 1); 3 calls (2 table, 1 rpc), 1 dynamic, 1 with the service role');
    expect(section).toContain('- **called by the app, missing from the audited database (a typo, a schema not exposed, a bucket made in the dashboard, a migration the audit skipped):** x\\|&lt;script&gt; at src/\\\\u001b\\[31mred\\|&lt;b&gt;.ts:9, cleanup() at jobs/clean.py:5');
    expect(section).not.toContain('<script>');
    expect(section).not.toContain('\u001b');
  });

  test('an app with no client call, or no source file, says nothing about what it uses', () => {
    const quiet = withAppUsage(base, snapshot, { ...USAGE, calls: [], dynamic: [], notes: [] }, 'web');
    expect(renderText(quiet, { color: false })).toContain(
      'App usage (web) — 3 files read (js 2, python 1); 0 calls, 0 dynamic: no supabase client call found, so nothing is said about what the app uses\n',
    );
    expect(quiet.findings.map((f) => f.message)).toEqual(base.findings.map((f) => f.message));
    const empty = withAppUsage(base, snapshot, { ...USAGE, files: 0, languages: {}, calls: [], dynamic: [], notes: [] }, 'web');
    expect(renderMarkdown(empty)).toContain('## App usage\n\n`web`: no application source file found, so nothing is said about what the app uses\n');
  });
});
