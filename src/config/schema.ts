/**
 * JSON schemas of the files supaudit reads: the config file, the suppressions file and the
 * baseline. The same schemas are shipped in `schemas/*.json` for editors (`"$schema"` key);
 * test/engine/config.test.ts keeps the two identical.
 */
import { LEVELS } from '../model/level.ts';

const CHECK_ID = { type: 'string', pattern: '^[a-z0-9_]+$' } as const;
const NON_EMPTY = { type: 'string', minLength: 1 } as const;

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'supaudit configuration (supaudit.config.json or .supaudit.json)',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    schemas: { description: 'Schemas exposed through the API (PostgREST db_schemas).', type: 'array', items: NON_EMPTY, uniqueItems: true },
    levels: {
      description: 'Level per check id, replacing the check’s own level.',
      type: 'object',
      propertyNames: CHECK_ID,
      additionalProperties: { type: 'string', enum: [...LEVELS] },
    },
    disable: { description: 'Check ids that do not run.', type: 'array', items: CHECK_ID, uniqueItems: true },
    roles: {
      description: 'Extra roles whose blast radius is computed (besides anon, authenticated, service_role, login roles and PUBLIC).',
      type: 'array',
      items: NON_EMPTY,
      uniqueItems: true,
    },
    sensitiveColumns: {
      description: 'Regular expressions (case-insensitive, matched against whole words of a column name) added to the built-in sensitive-column patterns.',
      type: 'array',
      items: NON_EMPTY,
    },
    realtimeSubscribers: {
      description: 'Assumed realtime subscribers per table when realtime.subscription cannot be read.',
      type: 'integer',
      minimum: 0,
    },
    failOn: { description: 'Exit 1 when a finding is at or above this level (--fail-on overrides).', type: 'string', enum: [...LEVELS, 'none'] },
    baseline: { description: 'Baseline file (supaudit baseline write); relative to this file.', ...NON_EMPTY },
    ignoreFile: { description: 'Suppressions file; relative to this file (default supaudit.ignore.json).', ...NON_EMPTY },
  },
} as const;

export const IGNORE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'supaudit suppressions (supaudit.ignore.json)',
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    anyOf: [{ required: ['fingerprint'] }, { required: ['check'] }],
    properties: {
      fingerprint: { description: 'Exact finding fingerprint, e.g. rls_enabled_no_policy:public.stripe_events.', ...NON_EMPTY },
      check: { description: 'Check id; with `object`, every finding of the check on matching objects.', ...CHECK_ID },
      object: { description: 'Glob on schema.name (or schema.name.column|policy): `*` any text, `?` one character.', ...NON_EMPTY },
      reason: { description: 'Why the finding is accepted (required).', type: 'string', pattern: '\\S' },
      expires: { description: 'Last day the suppression applies (YYYY-MM-DD); after it the finding comes back.', type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
      by: { description: 'Who accepted it.', ...NON_EMPTY },
    },
  },
} as const;

export const BASELINE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'supaudit baseline (supaudit baseline write)',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'fingerprints'],
  properties: {
    $schema: { type: 'string' },
    version: { type: 'integer', const: 1 },
    createdAt: { type: 'string' },
    fingerprints: { type: 'array', items: NON_EMPTY },
  },
} as const;
