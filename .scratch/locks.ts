import { connectPg } from '../src/introspect/targets/pg.ts';
import { introspect } from '../src/introspect/index.ts';
const s = await connectPg('postgres://postgres@127.0.0.1:54990/demo?sslmode=disable');
const orig = s.exec.bind(s);
(s as any).exec = async (sql: string) => {
  if (sql === 'ROLLBACK') {
    const rows = await s.query(`select c.relname, n.nspname, l.mode from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid=c.relnamespace where l.pid = pg_backend_pid() and n.nspname not in ('pg_catalog','information_schema')`);
    console.log('locks at end:', rows.length, JSON.stringify(rows.slice(0, 8)));
  }
  return orig(sql);
};
const origQ = s.query.bind(s);
let last = 0;
(s as any).query = async (sql: string, p?: any) => { const r = await origQ(sql, p); if (!sql.includes('pg_locks')) { const rows = await origQ(`select count(*)::int n from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid=c.relnamespace where l.pid = pg_backend_pid() and n.nspname not in ('pg_catalog','information_schema')`); if (rows[0].n !== last) { console.log('after', sql.slice(0, 80).replace(/\s+/g,' '), rows[0].n); last = rows[0].n; } } return r; };
await introspect(s, {});
await s.close();
