import { describe, expect, it } from 'vitest';
import check from '../../checks/hardcoded_secret.ts';
import { reporters } from '../../reports/index.ts';
import { auditOn, testEngines } from '../support/audit.ts';

const ID = 'hardcoded_secret';
const options = { checks: [check] };

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (role: string, iss = 'supabase') => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss, ref: 'abcdefghijklmnop', role, iat: 1700000000, exp: 2000000000 })}.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2g`;
// The Supabase CLI's local-development service key: published with the CLI, valid only on a local stack.
const DEMO_SERVICE_JWT = jwt('service_role', 'supabase-demo');
const SERVICE_JWT = jwt('service_role');
const ANON_JWT = jwt('anon');
const STRIPE = 'sk_live_51HabcdefghijklmnopqrstuvWXYZ0123';
const SB_SECRET = 'sb_secret_Abcdefghijklmnopqrstuv_12345';
const DB_PASSWORD = 'Tr0ub4dor-and-3';

const SCHEMA = `
create extension if not exists pgcrypto with schema extensions;
-- positives
create function public.call_edge() returns text language plpgsql as $$
begin
  return 'Bearer ${SERVICE_JWT}';
end $$;
create view public.billing_config as select '${STRIPE}'::text as key;
create table public.jobs (id int primary key, target text default 'postgresql://worker:${DB_PASSWORD}@db.example.com:5432/postgres', token text default '${SB_SECRET}');
-- near misses
create function public.public_anon() returns text language sql as $$ select 'Bearer ${ANON_JWT}' $$;
create function public.placeholder() returns text language sql as $$ select 'postgres://user:\${PASSWORD}@host/db' $$;
create view public.test_keys as select 'sk_test_51Habcdefghijklmnopqrstuv'::text as key;
create table public.plain (id int primary key, note text default 'no secret here');
create function public.local_only() returns text language sql as $$ select 'Bearer ${DEMO_SERVICE_JWT}' $$;
`;

describe.each(testEngines())('hardcoded_secret on %s', (engine) => {
  it('reports the credentials in bodies, views and defaults, at their level, and none of the near misses', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => [f.object.type, f.object.name, f.object.column ?? null, f.level]).sort()).toEqual(
      [
        ['column', 'jobs', 'target', 'critical'],
        ['column', 'jobs', 'token', 'critical'],
        ['function', 'call_edge', null, 'critical'],
        ['function', 'local_only', null, 'low'],
        ['view', 'billing_config', null, 'critical'],
      ].sort(),
    );
    expect(mine.find((f) => f.object.name === 'local_only')!.message).toContain("the Supabase CLI's public local-development JWT for role service_role");
    expect(mine.find((f) => f.object.name === 'call_edge')!.message).toContain('JWT for role service_role (bypasses RLS)');
    // No output carries the secret itself.
    const report = { schemaVersion: 1 as const, tool: { name: 'supaudit' as const, version: '0' }, target: { kind: 'url' as const, database: 'd', serverVersion: 'PostgreSQL 15' }, exposedSchemas: { schemas: ['public'], source: 'option' }, summary: { critical: mine.length - 1, high: 0, medium: 0, low: 1, info: 0 }, findings: mine, suppressed: [], checks: [], blastRadius: [], notes: [], checkErrors: [], stats: { durationMs: 0, queries: 0, introspectionMs: 0, checksMs: 0, checksRun: 1, objects: { relations: 0, policies: 0, functions: 0 } } };
    for (const [name, reporter] of Object.entries(reporters)) {
      const out = reporter.render(report, { color: false });
      for (const secret of [SERVICE_JWT, STRIPE, SB_SECRET, DB_PASSWORD]) expect(out, name).not.toContain(secret);
    }
  });
});
