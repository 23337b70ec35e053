import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig, loadSuppressions, readBaseline, suppressionsFile } from '../../src/config/load.ts';
import { BASELINE_SCHEMA, CONFIG_SCHEMA, IGNORE_SCHEMA } from '../../src/config/schema.ts';
import { resolveSettings } from '../../src/cli/settings.ts';
import { DEFAULT_SENSITIVE_PATTERNS } from '../../src/engine/context.ts';

const dir = mkdtempSync(join(tmpdir(), 'supaudit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const known = ['rls_disabled_in_public', 'rls_enabled_no_policy', 'security_definer_view'];

/** Writes `value` as the config file of a fresh folder and loads it. */
function load(value: unknown, name = 'supaudit.config.json') {
  const cwd = mkdtempSync(join(dir, 'c-'));
  writeFileSync(join(cwd, name), typeof value === 'string' ? value : JSON.stringify(value));
  return () => loadConfig({ cwd, knownChecks: known });
}

describe('config file', () => {
  test('no file: empty config', () => {
    expect(loadConfig({ cwd: mkdtempSync(join(dir, 'none-')), knownChecks: known })).toEqual({ file: null, config: {} });
  });

  test('every key, with $schema; paths resolve against the config folder', () => {
    const cwd = mkdtempSync(join(dir, 'full-'));
    const config = {
      $schema: './node_modules/supaudit/schemas/supaudit.config.schema.json',
      schemas: ['public', 'api'],
      levels: { rls_enabled_no_policy: 'low' },
      disable: ['security_definer_view'],
      roles: ['reporting'],
      sensitiveColumns: ['nin', 'tax_?code'],
      realtimeSubscribers: 0,
      failOn: 'high',
      baseline: 'ci/base.json',
      ignoreFile: 'ci/ignore.json',
    };
    writeFileSync(join(cwd, '.supaudit.json'), JSON.stringify(config));
    const loaded = loadConfig({ cwd, knownChecks: known });
    expect(loaded.file).toBe(join(cwd, '.supaudit.json'));
    const { $schema: _s, ...rest } = config;
    expect(loaded.config).toEqual({ ...rest, baseline: join(cwd, 'ci/base.json'), ignoreFile: join(cwd, 'ci/ignore.json') });
  });

  test('supaudit.config.json is preferred over .supaudit.json; --config names any file', () => {
    const cwd = mkdtempSync(join(dir, 'both-'));
    writeFileSync(join(cwd, 'supaudit.config.json'), '{"failOn":"critical"}');
    writeFileSync(join(cwd, '.supaudit.json'), '{"failOn":"low"}');
    writeFileSync(join(cwd, 'other.json'), '{"failOn":"info"}');
    expect(loadConfig({ cwd, knownChecks: known }).config.failOn).toBe('critical');
    expect(loadConfig({ cwd, explicit: 'other.json', knownChecks: known }).config.failOn).toBe('info');
    expect(() => loadConfig({ cwd, explicit: 'missing.json', knownChecks: known })).toThrow('config file not found: missing.json');
  });

  test.each([
    [{ foo: 1 }, 'supaudit.config.json: unknown key "foo"'],
    [{ schemas: 'public' }, 'supaudit.config.json: "schemas" must be an array'],
    [{ realtimeSubscribers: 2.5 }, 'supaudit.config.json: "realtimeSubscribers" must be a whole number'],
    [{ realtimeSubscribers: -1 }, 'supaudit.config.json: "realtimeSubscribers" must be >= 0'],
    [{ failOn: 'severe' }, 'supaudit.config.json: "failOn" must be one of critical, high, medium, low, info, none, got "severe"'],
    [{ levels: { rls_enabled_no_policy: 'urgent' } }, 'supaudit.config.json: "levels.rls_enabled_no_policy" must be one of critical, high, medium, low, info, got "urgent"'],
    [{ levels: { rls_disabled_in_pubic: 'low' } }, 'supaudit.config.json: unknown check "rls_disabled_in_pubic" in "levels"'],
    [{ disable: ['no_such_check'] }, 'supaudit.config.json: unknown check "no_such_check" in "disable"'],
    [{ sensitiveColumns: ['(unclosed'] }, 'supaudit.config.json: "sensitiveColumns[0]" is not a valid regular expression'],
    [{ baseline: '' }, 'supaudit.config.json: "baseline" must not be empty'],
    ['{ "failOn": ', 'supaudit.config.json: invalid JSON'],
  ])('%j → one clear error naming the file and the key', (value, message) => {
    expect(load(value)).toThrow(message);
  });

  test('a misspelt check id gets a suggestion', () => {
    try {
      load({ levels: { rls_disabled_in_pubic: 'low' } })();
      expect.unreachable();
    } catch (error) {
      expect((error as { hint?: string }).hint).toBe('did you mean "rls_disabled_in_public"?');
      expect((error as { kind?: string }).kind).toBe('config');
    }
  });

  test('settings: flags win, sensitive patterns are added to the defaults, roles and subscribers reach the checks', () => {
    const cwd = mkdtempSync(join(dir, 'settings-'));
    writeFileSync(join(cwd, 'supaudit.config.json'), JSON.stringify({ schemas: ['api'], sensitiveColumns: ['nin'], roles: ['reporting'], realtimeSubscribers: 7, disable: ['rls_disabled_in_public'], levels: { security_definer_view: 'info' } }));
    const fromConfig = resolveSettings({}, cwd).options;
    expect(fromConfig.exposedSchemas).toEqual(['api']);
    expect(fromConfig.checkOptions).toEqual({ sensitiveColumnPatterns: [...DEFAULT_SENSITIVE_PATTERNS, 'nin'], realtimeSubscribers: 7, extraRoles: ['reporting'] });
    expect(fromConfig.disabled).toEqual(['rls_disabled_in_public']);
    expect(fromConfig.levels).toEqual({ security_definer_view: 'info' });
    expect(resolveSettings({ schemas: 'public, graphql_public' }, cwd).options.exposedSchemas).toEqual(['public', 'graphql_public']);
  });
});

describe('suppressions file', () => {
  function write(value: unknown): string {
    const file = join(mkdtempSync(join(dir, 'i-')), 'supaudit.ignore.json');
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  test('valid entries load with the file name', () => {
    const file = write([
      { fingerprint: 'rls_enabled_no_policy:public.stripe_events', reason: 'webhook table', by: 'ops', expires: '2030-01-31' },
      { check: 'security_definer_view', object: 'public.*', reason: 'reviewed' },
    ]);
    const entries = loadSuppressions(file, dir, known);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ fingerprint: 'rls_enabled_no_policy:public.stripe_events', by: 'ops', file: expect.stringMatching(/supaudit\.ignore\.json$/) });
  });

  test.each([
    [[{ fingerprint: 'x:public.t' }], 'entry 1: missing "reason"'],
    [[{ fingerprint: 'x:public.t', reason: '   ' }], 'entry 1, "reason" must not be empty'],
    [[{ object: 'public.*', reason: 'r' }], 'entry 1: needs "fingerprint" or "check"'],
    [[{ check: 'rls_enabled_no_policy', reason: 'r', expires: '31/01/2030' }], 'entry 1, "expires" must be a date YYYY-MM-DD'],
    [[{ check: 'rls_enabled_no_policy', reason: 'r', expires: '2030-02-30' }], 'entry 1, "expires" is not a real date: 2030-02-30'],
    [[{ check: 'rls_enabled_no_policy', reason: 'r' }, { check: 'rls_enabled_no_policy', reason: 'r', until: 'x' }], 'entry 2: unknown key "until"'],
    [[{ check: 'rls_enabld_no_policy', reason: 'r' }], 'unknown check "rls_enabld_no_policy" in "entry 1, check"'],
    [{ fingerprint: 'x' }, 'supaudit.ignore.json: the top level must be an array'],
  ])('%j → %s', (value, message) => {
    const file = write(value);
    expect(() => loadSuppressions(file, dir, known)).toThrow(message);
  });

  test('which file: --ignore-file, else config ignoreFile, else supaudit.ignore.json when present', () => {
    const cwd = mkdtempSync(join(dir, 'which-'));
    expect(suppressionsFile(cwd, undefined, undefined)).toBeUndefined();
    writeFileSync(join(cwd, 'supaudit.ignore.json'), '[]');
    expect(suppressionsFile(cwd, undefined, undefined)).toBe(join(cwd, 'supaudit.ignore.json'));
    expect(suppressionsFile(cwd, undefined, '/x/from-config.json')).toBe('/x/from-config.json');
    expect(suppressionsFile(cwd, 'flag.json', '/x/from-config.json')).toBe(join(cwd, 'flag.json'));
  });
});

describe('baseline file', () => {
  test('missing or malformed: a clear error', () => {
    expect(() => readBaseline(join(dir, 'nope.json'), dir)).toThrow('baseline file not found: nope.json');
    const bad = join(dir, 'bad-baseline.json');
    writeFileSync(bad, JSON.stringify({ version: 2, fingerprints: [] }));
    expect(() => readBaseline(bad, dir)).toThrow('bad-baseline.json: "version" must be 1');
    writeFileSync(bad, JSON.stringify({ version: 1, fingerprints: 'a' }));
    expect(() => readBaseline(bad, dir)).toThrow('bad-baseline.json: "fingerprints" must be an array');
  });
});

test('the shipped JSON schemas (schemas/*.json, for editors) are the ones the CLI validates with', () => {
  const shipped = (name: string) => JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as unknown;
  expect(shipped('supaudit.config.schema.json')).toEqual(CONFIG_SCHEMA);
  expect(shipped('supaudit.ignore.schema.json')).toEqual(IGNORE_SCHEMA);
  expect(shipped('supaudit.baseline.schema.json')).toEqual(BASELINE_SCHEMA);
});
