/**
 * Generates a realistic Supabase-style schema of N tables: every table has a uuid primary key,
 * an owner column with a foreign key to auth.users, a team foreign key, two or three policies of
 * the shapes real apps write (owner, membership EXISTS, IN subquery, always-true), and indexes;
 * every tenth table gets a view, every twentieth a SECURITY DEFINER function, and some tables are
 * published for realtime. Deterministic: the same N gives the same SQL.
 */
export function generateSchema(tables: number): string {
  return generateSchemaChunks(tables).join('\n');
}

/** The same SQL in chunks of about `per` tables, each small enough for one transaction's lock table. */
export function generateSchemaChunks(tables: number, per = 250): string[] {
  const chunks: string[] = [];
  const out: string[] = [
    `create table if not exists public.teams (id uuid primary key default gen_random_uuid(), name text not null);`,
    `create table if not exists public.team_members (team_id uuid not null references public.teams (id), user_id uuid not null references auth.users (id), role text not null default 'member', primary key (team_id, user_id));`,
    `alter table public.team_members enable row level security;`,
    `create policy "members see their teams" on public.team_members for select to authenticated using (user_id = (select auth.uid()));`,
  ];
  for (let i = 0; i < tables; i++) {
    if (i > 0 && i % per === 0) chunks.push(out.splice(0).join('\n'));
    const t = `t${String(i).padStart(5, '0')}`;
    const q = `public.${t}`;
    out.push(
      `create table ${q} (id uuid primary key default gen_random_uuid(), user_id uuid ${i % 7 === 0 ? '' : 'not null '}references auth.users (id), team_id uuid references public.teams (id), title text not null default '', body text, status text not null default 'open', amount numeric, ${i % 11 === 0 ? 'api_token text, ' : ''}created_at timestamptz not null default now());`,
    );
    if (i % 13 !== 0) out.push(`alter table ${q} enable row level security;`);
    switch (i % 5) {
      case 0:
        out.push(`create policy "owner reads" on ${q} for select to authenticated using ((select auth.uid()) = user_id);`);
        out.push(`create policy "owner writes" on ${q} for insert to authenticated with check ((select auth.uid()) = user_id);`);
        break;
      case 1:
        out.push(`create policy "owner reads" on ${q} for select using (auth.uid() = user_id);`);
        out.push(`create policy "team reads" on ${q} for select using (exists (select 1 from public.team_members tm where tm.team_id = ${t}.team_id and tm.user_id = auth.uid()));`);
        break;
      case 2:
        out.push(`create policy "team rows" on ${q} for all to authenticated using (team_id in (select team_id from public.team_members where user_id = (select auth.uid())));`);
        break;
      case 3:
        out.push(`create policy "anyone reads" on ${q} for select using (true);`);
        out.push(`create policy "owner updates" on ${q} for update to authenticated using (user_id = auth.uid() or status = 'open');`);
        out.push(`create policy "metadata admins" on ${q} for delete to authenticated using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');`);
        break;
      default:
        out.push(`create policy "owner all" on ${q} for all to authenticated using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);`);
    }
    if (i % 2 === 0) out.push(`create index ${t}_user_id_idx on ${q} (user_id);`);
    if (i % 3 === 0) out.push(`create index ${t}_team_status_idx on ${q} (team_id, status);`);
    if (i % 17 === 0) out.push(`create index ${t}_team_idx on ${q} (team_id);`);
    if (i % 10 === 0) out.push(`create view public.${t}_summary as select id, title, status from ${q};`);
    if (i % 20 === 0) {
      out.push(`create function public.${t}_count() returns bigint language sql security definer stable as $$ select count(*) from ${q} $$;`);
    }
  }
  const published = Array.from({ length: Math.min(tables, 20) }, (_, i) => `public.t${String(i * 3 % tables).padStart(5, '0')}`);
  out.push(`alter publication supabase_realtime add table ${[...new Set(published)].join(', ')};`);
  chunks.push(out.join('\n'));
  // ANALYZE runs on its own (outside a transaction block it commits table by table, so it does not
  // hold a lock on every table at once).
  chunks.push('analyze');
  return chunks;
}
