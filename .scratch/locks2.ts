import { connectPg } from '../src/introspect/targets/pg.ts';
const s = await connectPg('postgres://postgres@127.0.0.1:54990/demo?sslmode=disable');
const L = `select string_agg(n.nspname||'.'||c.relname||':'||c.relkind::text, ' ') s from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid=c.relnamespace where l.pid = pg_backend_pid() and n.nspname not in ('pg_catalog','information_schema')`;
for (const q of [
 `select count(pg_get_viewdef(c.oid)) from pg_class c where relkind in ('v','m')`,
 `select count(pg_get_expr(polqual, polrelid)) from pg_policy`,
 `select count(pg_get_expr(polwithcheck, polrelid)) from pg_policy`,
 `select count(pg_get_expr(adbin, adrelid)) from pg_attrdef`,
 `select count(pg_get_indexdef(indexrelid)) from pg_index`,
 `select count(pg_get_constraintdef(oid)) from pg_constraint`,
 `select count(*) from pg_stat_all_tables`,
 `select count(*) from pg_stats`,
]) {
  await s.exec('begin read only');
  await s.query(q);
  console.log(q.slice(0, 60), '=>', (await s.query(L))[0].s);
  await s.exec('rollback');
}
await s.close();
