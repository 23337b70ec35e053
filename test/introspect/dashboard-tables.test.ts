/**
 * Tables made in the dashboard: the migrations give them policies and ALTERs but never create them.
 * With the app's generated types beside `supabase/`, the embedded target makes a stand-in for each
 * before the migrations run, so what the migrations say about them loads and is audited; without
 * the types, a stand-in is made when a statement first needs one, with the columns the statements ask for.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { columnType, parseGeneratedTypes } from '../../src/introspect/targets/typegen.ts';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const TYPES = `export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  public: {
    Tables: {
      tenants: {
        Row: {
          created_at: string | null
          id: string
          name: string
        }
        Insert: { id?: string; name: string }
        Update: { id?: string; name?: string }
        Relationships: []
      }
      user_tenants: {
        Row: {
          id: string
          is_active: boolean | null
          role: Database["public"]["Enums"]["user_role"]
          tenant_id: string
          user_id: string
        }
        Insert: { id?: string; role: Database["public"]["Enums"]["user_role"]; tenant_id: string; user_id: string }
        Update: { role?: Database["public"]["Enums"]["user_role"] }
        Relationships: [
          {
            foreignKeyName: "user_tenants_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      never_mentioned: {
        Row: { id: string }
        Insert: { id?: string }
        Update: { id?: string }
        Relationships: []
      }
    }
    Views: { [_ in never]: never }
    Functions: { [_ in never]: never }
    Enums: {
      user_role:
        | "tenant_owner"
        | "tenant_admin"
        | "farmer"
    }
  }
}
`;

const MIGRATION = `-- The tables were made in the dashboard; this migration gives them their policies.
alter table public.user_tenants add column if not exists is_active boolean default true;
alter table public.user_tenants add column is_active boolean;
create table public.crops (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants (id), name text not null);
alter table public.crops enable row level security;
create policy "members read crops" on public.crops for select to authenticated
  using (tenant_id in (select ut.tenant_id from public.user_tenants ut where ut.user_id = auth.uid() and ut.is_active));
create policy "read own memberships" on public.user_tenants for select to authenticated using (user_id = auth.uid());
create policy "join a tenant" on public.user_tenants for insert to authenticated with check (user_id = auth.uid());
create policy "members read their tenant" on public.tenants for select to authenticated
  using (id in (select ut.tenant_id from public.user_tenants ut where ut.user_id = auth.uid()));
`;

test('the generated types: tables, columns, references and enums of the public schema; column types by type and name', () => {
  const types = parseGeneratedTypes(TYPES);
  expect(types.tables.map((t) => t.name)).toEqual(['tenants', 'user_tenants', 'never_mentioned']);
  const ut = types.tables.find((t) => t.name === 'user_tenants')!;
  expect(ut.columns.map((c) => [c.name, columnType(c, types.enums)])).toEqual([
    ['id', 'uuid'],
    ['is_active', 'boolean'],
    ['role', 'public.user_role'],
    ['tenant_id', 'uuid'],
    ['user_id', 'uuid'],
  ]);
  expect(ut.references).toEqual([{ columns: ['tenant_id'], table: 'tenants', refColumns: ['id'] }]);
  expect(types.enums.get('user_role')).toEqual(['tenant_owner', 'tenant_admin', 'farmer']);
  expect(columnType({ name: 'created_at', ts: 'string | null' }, types.enums)).toBe('timestamptz');
  expect(columnType({ name: 'tags', ts: 'string[]' }, types.enums)).toBe('text[]');
  expect(columnType({ name: 'meta', ts: 'Json' }, types.enums)).toBe('jsonb');
});

describe('tables made in the dashboard', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'supaudit-dashboard-'));
    mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'supabase', 'migrations', '20260101000000_policies.sql'), MIGRATION);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const audit = async () => {
    const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--project', join(dir, 'supabase'), '--no-tui', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    return JSON.parse(run.stdout) as Report;
  };

  test('without the types: stand-ins made when a statement first needs them, with the columns the statements ask for (typed, keys pointing at the tables they name), and the join is found', async () => {
    const report = await audit();
    // Only the migration's own mistake fails: a column added twice.
    expect(report.findings.filter((f) => f.check === 'migration_statement_failed').map((f) => f.message.slice(0, 120))).toEqual([
      'supabase/migrations/20260101000000_policies.sql:3 fails on a fresh database: column "is_active" of relation "user_tenant',
    ]);
    expect(report.notes.find((n) => n.message.startsWith('tables no file creates'))?.message).toBe(
      'tables no file creates (made in the dashboard) and no generated types describe, made as stand-ins with RLS on when a statement first needed them, with the columns the statements asked for, typed by name: ' +
        'user_tenants (id, created_at, tenant_id → public.tenants, user_id → auth.users); tenants (id, created_at); their own policies and grants are not in the project',
    );
    const join_ = report.findings.find((f) => f.check === 'tenant_self_join' && f.object.name === 'user_tenants');
    expect(join_?.level).toBe('critical');
  });

  test('with src/integrations/supabase/types.ts: stand-ins for the tables the migrations use, the policies load, and any user joining any tenant is found', async () => {
    mkdirSync(join(dir, 'src', 'integrations', 'supabase'), { recursive: true });
    writeFileSync(join(dir, 'src', 'integrations', 'supabase', 'types.ts'), TYPES);
    const report = await audit();
    // Nothing fails: the ADD COLUMN of a column the stand-in already has is passed over (IF NOT EXISTS: a notice), said in the note.
    expect(report.findings.filter((f) => f.check === 'migration_statement_failed')).toEqual([]);
    const note = report.notes.find((n) => n.message.startsWith('tables made in the dashboard'))!;
    expect(note.message).toBe(
      'tables made in the dashboard (the migrations use them, none creates them), from src/integrations/supabase/types.ts: tenants, user_tenants; columns as the generated types say, RLS on; 1 statement that adds what the stand-ins already have passed over',
    );
    // The table no migration mentions gets no stand-in.
    expect(report.blastRadius.flatMap((b) => b.tables.map((t) => t.name))).not.toContain('never_mentioned');
    const join_ = report.findings.find((f) => f.check === 'tenant_self_join' && f.object.name === 'user_tenants');
    expect(join_?.level).toBe('critical');
    expect(report.lab?.tenants).toEqual([{ root: 'public.tenants', membership: 'public.user_tenants', roleColumn: 'role', roles: ['tenant_owner', 'tenant_admin', 'farmer'] }]);
  });
});
