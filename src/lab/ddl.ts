/**
 * DDL that rebuilds a live database's schema in the lab's embedded copy, from its snapshot and the
 * DDL catalog (src/introspect/ddl-catalog.ts). Pure: statements in an order that loads (types,
 * functions the tables need, tables, keys, indexes, views, the remaining functions, triggers, RLS,
 * policies, grants, buckets). A statement that cannot load there (an extension the embedded
 * database lacks) is left to fail: the loader records it and goes on.
 */
import type { DdlCatalog } from '../model/ddl-catalog.ts';
import { createPolicySql, qualified, quoteIdent, quoteLiteral } from '../model/ident.ts';
import { isSystemSchema } from '../model/schemas.ts';
import { PUBLIC_ROLE, type AclItem, type Column, type Relation, type Snapshot } from '../model/snapshot.ts';
import { dependencyOrder } from './order.ts';

/** The roles whose grants the copy reproduces: the API's, the service role's and PUBLIC (which reaches them all). */
const GRANTEES = [PUBLIC_ROLE, 'anon', 'authenticated', 'service_role'] as const;

/** Tables of Supabase's schemas whose policies are the user's (the base creates none). */
const USER_POLICY_SCHEMAS = new Set(['storage', 'realtime']);

const key = (schema: string, name: string) => `${schema}\u0000${name}`;

export function renderDdl(snapshot: Snapshot, catalog: DdlCatalog): string[] {
  const out: string[] = [];
  const isUser = (schema: string, extension: string | null = null) => extension === null && !isSystemSchema(schema);
  const relations = snapshot.relations.filter((r) => isUser(r.schema, r.extension));
  const partitions = new Map(catalog.partitions.map((p) => [key(p.schema, p.name), p]));
  const partitionKeys = new Map(catalog.partitionKeys.map((p) => [key(p.schema, p.name), p.key]));
  const special = new Map(catalog.specialColumns.map((c) => [`${key(c.schema, c.table)}\u0000${c.name}`, c]));
  const roles = new Set(snapshot.roles.map((r) => r.name));
  const grantees = GRANTEES.filter((g) => g === PUBLIC_ROLE || roles.has(g) || !snapshot.roles.length);

  for (const s of snapshot.schemas) if (isUser(s.name, s.extension)) out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s.name)}`);
  for (const e of snapshot.extensions) {
    if (e.name !== 'plpgsql') out.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)}`);
  }
  for (const t of catalog.enums) out.push(`CREATE TYPE ${qualified(t.schema, t.name)} AS ENUM (${t.labels.map(quoteLiteral).join(', ')})`);
  for (const d of catalog.domains) {
    out.push(
      `CREATE DOMAIN ${qualified(d.schema, d.name)} AS ${d.baseType}` +
        (d.default !== null ? ` DEFAULT ${d.default}` : '') +
        (d.notNull ? ' NOT NULL' : '') +
        d.checks.map((c) => ` CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`).join(''),
    );
  }
  for (const c of catalog.composites) {
    out.push(`CREATE TYPE ${qualified(c.schema, c.name)} AS (${c.attributes.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(', ')})`);
  }
  for (const s of catalog.sequences) {
    out.push(
      `CREATE SEQUENCE IF NOT EXISTS ${qualified(s.schema, s.name)} AS ${s.dataType} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} START WITH ${s.start}${s.cycle ? ' CYCLE' : ''}`,
    );
  }
  for (const f of catalog.functions) if (!f.afterRelations) out.push(f.definition);

  // Tables: parents before their partitions; keys once every table exists.
  const tables = relations.filter((r) => r.kind === 'table' || r.kind === 'partitioned_table');
  const ordered = [...tables.filter((t) => !partitions.has(key(t.schema, t.name))), ...partitionOrder(tables, partitions)];
  for (const t of ordered) {
    const partition = partitions.get(key(t.schema, t.name));
    const by = t.kind === 'partitioned_table' ? partitionKeys.get(key(t.schema, t.name)) : undefined;
    const tail = by ? ` PARTITION BY ${by}` : '';
    if (partition) {
      out.push(`CREATE TABLE ${qualified(t.schema, t.name)} PARTITION OF ${qualified(partition.parentSchema, partition.parentName)} ${partition.bound}${tail}`);
      continue;
    }
    const columns = [...t.columns].sort((a, b) => a.position - b.position).map((c) => columnSql(c, special.get(`${key(t.schema, t.name)}\u0000${c.name}`)));
    out.push(`CREATE TABLE ${qualified(t.schema, t.name)} (${columns.join(', ')})${tail}`);
  }
  const inPartition = (schema: string, table: string) => partitions.has(key(schema, table));
  const userTable = new Set(tables.map((t) => key(t.schema, t.name)));
  const constraints = snapshot.constraints.filter((c) => userTable.has(key(c.schema, c.table)) && !inPartition(c.schema, c.table) && !c.unreadable);
  for (const c of constraints) {
    if (c.type === 'primary_key' || c.type === 'unique' || c.type === 'check' || c.type === 'exclusion') {
      out.push(`ALTER TABLE ${qualified(c.schema, c.table)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`);
    }
  }
  for (const c of constraints) if (c.type === 'foreign_key') out.push(`ALTER TABLE ${qualified(c.schema, c.table)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`);
  for (const i of snapshot.indexes) {
    if (i.constraint !== null || i.unreadable || !userTable.has(key(i.schema, i.table)) || inPartition(i.schema, i.table)) continue;
    out.push(i.definition.replace(/ ON ONLY /, ' ON '));
  }

  for (const v of viewOrder(snapshot, relations)) {
    if (v.viewDefinition === null) continue;
    const body = v.viewDefinition.trim().replace(/;$/, '');
    const options = Object.entries(v.options).map(([k, value]) => `${quoteIdent(k)} = ${quoteLiteral(value)}`);
    out.push(
      v.kind === 'materialized_view'
        ? `CREATE MATERIALIZED VIEW ${qualified(v.schema, v.name)} AS ${body}`
        : `CREATE VIEW ${qualified(v.schema, v.name)}${options.length > 0 ? ` WITH (${options.join(', ')})` : ''} AS ${body}`,
    );
  }
  for (const f of catalog.functions) if (f.afterRelations) out.push(f.definition);
  for (const t of catalog.triggers) out.push(t.definition);

  for (const t of tables) {
    if (t.rlsEnabled) out.push(`ALTER TABLE ${qualified(t.schema, t.name)} ENABLE ROW LEVEL SECURITY`);
    if (t.rlsForced) out.push(`ALTER TABLE ${qualified(t.schema, t.name)} FORCE ROW LEVEL SECURITY`);
  }
  const policyTables = new Set([...userTable, ...snapshot.relations.filter((r) => USER_POLICY_SCHEMAS.has(r.schema)).map((r) => key(r.schema, r.name))]);
  for (const p of snapshot.policies) {
    if (p.unreadable || !policyTables.has(key(p.schema, p.table))) continue;
    out.push(createPolicySql(p));
  }

  // Grants: what the copy's base and default privileges gave is taken back first, so the API roles hold exactly what they hold live.
  const revokeFrom = grantees.map((g) => (g === PUBLIC_ROLE ? 'PUBLIC' : quoteIdent(g))).join(', ');
  const grants = (acl: readonly AclItem[], on: string, columns = '') =>
    grantees.flatMap((g) => {
      const privileges = [...new Set(acl.filter((a) => a.grantee === g).map((a) => a.privilege))];
      return privileges.length > 0 ? [`GRANT ${privileges.map((p) => `${p}${columns}`).join(', ')} ON ${on} TO ${g === PUBLIC_ROLE ? 'PUBLIC' : quoteIdent(g)}`] : [];
    });
  for (const s of snapshot.schemas) {
    if (!isUser(s.name, s.extension)) continue;
    out.push(`REVOKE ALL ON SCHEMA ${quoteIdent(s.name)} FROM ${revokeFrom}`, ...grants(s.acl, `SCHEMA ${quoteIdent(s.name)}`));
  }
  for (const r of relations) {
    if (r.kind === 'foreign_table') continue;
    const on = `TABLE ${qualified(r.schema, r.name)}`;
    out.push(`REVOKE ALL ON ${on} FROM ${revokeFrom}`, ...grants(r.acl, on));
    for (const c of r.columns) out.push(...grants(c.acl, on, ` (${quoteIdent(c.name)})`));
  }
  for (const s of snapshot.sequences) {
    if (!isUser(s.schema)) continue;
    const on = `SEQUENCE ${qualified(s.schema, s.name)}`;
    out.push(`REVOKE ALL ON ${on} FROM ${revokeFrom}`, ...grants(s.acl, on));
  }
  const defined = new Set(catalog.functions.map((f) => `${key(f.schema, f.name)}\u0000${f.identityArgs}`));
  for (const f of snapshot.functions) {
    if (!defined.has(`${key(f.schema, f.name)}\u0000${f.identityArgs}`)) continue;
    const on = `${f.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${qualified(f.schema, f.name)}(${f.identityArgs})`;
    out.push(`REVOKE ALL ON ${on} FROM ${revokeFrom}`, ...grants(f.acl, on));
  }
  for (const b of snapshot.buckets) {
    out.push(`INSERT INTO storage.buckets (id, name, public) VALUES (${quoteLiteral(b.id)}, ${quoteLiteral(b.name)}, ${b.public}) ON CONFLICT (id) DO NOTHING`);
  }
  return out;
}

function columnSql(c: Column, special: DdlCatalog['specialColumns'][number] | undefined): string {
  let sql = `${quoteIdent(c.name)} ${c.type}`;
  if (special?.identity) sql += ` GENERATED ${special.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
  else if (special?.generated && c.default !== null) sql += ` GENERATED ALWAYS AS (${c.default})${special.generated === 'virtual' ? ' VIRTUAL' : ' STORED'}`;
  else if (c.default !== null) sql += ` DEFAULT ${c.default}`;
  if (c.notNull && !special?.identity) sql += ' NOT NULL';
  return sql;
}

/** Partitions after their parents (a partition may itself be partitioned). */
function partitionOrder(tables: readonly Relation[], partitions: ReadonlyMap<string, DdlCatalog['partitions'][number]>): Relation[] {
  const depth = (r: { schema: string; name: string }): number => {
    let d = 0;
    for (let p = partitions.get(key(r.schema, r.name)); p && d < 100; p = partitions.get(key(p.parentSchema, p.parentName))) d++;
    return d;
  };
  return tables.filter((t) => partitions.has(key(t.schema, t.name))).sort((a, b) => depth(a) - depth(b));
}

/** Views and materialized views, each after the views it reads. */
function viewOrder(snapshot: Snapshot, relations: readonly Relation[]): Relation[] {
  const views = new Map(relations.filter((r) => r.kind === 'view' || r.kind === 'materialized_view').map((v) => [key(v.schema, v.name), v]));
  return dependencyOrder(views, snapshot.viewDependencies.map((d) => [key(d.schema, d.view), key(d.refSchema, d.refName)] as const));
}
