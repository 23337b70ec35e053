/**
 * The part of a live database's schema the snapshot does not hold and the lab needs to rebuild it
 * in its embedded copy (src/lab/ddl.ts): types, sequences, identity and generated columns,
 * partitions, and function and trigger definitions. Read only when the lab is built from the live
 * catalog: two statements in one read-only transaction with the audit's timeouts.
 */
import type { DdlCatalog } from '../model/ddl-catalog.ts';
import { SYSTEM_SCHEMAS } from '../model/schemas.ts';
import { IntrospectionError } from './errors.ts';
import type { Session } from './session.ts';
import { extensionOwned, NAMESPACE_FILTER } from './sql.ts';

/** A user schema: not Postgres's, not Supabase's (`$1`: the system schema list). */
const USER_NAMESPACE = `${NAMESPACE_FILTER} and n.nspname <> all($1::text[])`;

/** Types, sequences, special columns and partitions: catalog columns only, no printing that locks. */
const STRUCTURE_SQL = `
select
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
      'labels', array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder)) order by n.nspname, t.typname), '[]')
     from pg_type t join pg_namespace n on n.oid = t.typnamespace left join ${extensionOwned('pg_type')} ext on ext.objid = t.oid
    where t.typtype = 'e' and ext.objid is null and ${USER_NAMESPACE}) as enums,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
      'baseType', format_type(t.typbasetype, t.typtypmod), 'notNull', t.typnotnull,
      'default', pg_get_expr(t.typdefaultbin, 0),
      'checks', (select coalesce(json_agg(json_build_object('name', c.conname, 'definition', pg_get_constraintdef(c.oid)) order by c.conname), '[]')
                   from pg_constraint c where c.contypid = t.oid and c.contype = 'c')) order by n.nspname, t.typname), '[]')
     from pg_type t join pg_namespace n on n.oid = t.typnamespace left join ${extensionOwned('pg_type')} ext on ext.objid = t.oid
    where t.typtype = 'd' and ext.objid is null and ${USER_NAMESPACE}) as domains,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
      'attributes', (select coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) order by a.attnum), '[]')
                       from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped)) order by n.nspname, t.typname), '[]')
     from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_class c on c.oid = t.typrelid
     left join ${extensionOwned('pg_type')} ext on ext.objid = t.oid
    where t.typtype = 'c' and c.relkind = 'c' and ext.objid is null and ${USER_NAMESPACE}) as composites,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'dataType', format_type(s.seqtypid, null),
      'start', s.seqstart::text, 'increment', s.seqincrement::text, 'min', s.seqmin::text, 'max', s.seqmax::text, 'cycle', s.seqcycle)
      order by n.nspname, c.relname), '[]')
     from pg_sequence s join pg_class c on c.oid = s.seqrelid join pg_namespace n on n.oid = c.relnamespace
     left join ${extensionOwned('pg_class')} ext on ext.objid = c.oid
    where ext.objid is null and ${USER_NAMESPACE}
      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'i')) as sequences,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'name', a.attname,
      'identity', case a.attidentity when 'a' then 'always' when 'd' then 'by default' end,
      'generated', case a.attgenerated::text when 's' then 'stored' when 'v' then 'virtual' end) order by n.nspname, c.relname, a.attnum), '[]')
     from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where a.attnum > 0 and not a.attisdropped and (a.attidentity <> '' or a.attgenerated <> '') and c.relkind in ('r', 'p')
      and ${USER_NAMESPACE}) as "specialColumns",
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'parentSchema', pn.nspname, 'parentName', p.relname,
      'bound', pg_get_expr(c.relpartbound, c.oid)) order by n.nspname, c.relname), '[]')
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     join pg_inherits i on i.inhrelid = c.oid join pg_class p on p.oid = i.inhparent join pg_namespace pn on pn.oid = p.relnamespace
    where c.relispartition and c.relkind in ('r', 'p') and ${USER_NAMESPACE}) as partitions,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'key', pg_get_partkeydef(c.oid)) order by n.nspname, c.relname), '[]')
     from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'p' and ${USER_NAMESPACE}) as "partitionKeys"`;

/**
 * Functions of the user's schemas (aggregates have no printable definition) and the triggers on
 * the user's tables, or on Supabase's tables when they call a function of the user's (a sign-up
 * trigger on auth.users).
 */
const DEFINITIONS_SQL = `
select
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', p.proname,
      'identityArgs', pg_get_function_identity_arguments(p.oid), 'definition', pg_get_functiondef(p.oid),
      'afterRelations', exists (
        select 1 from pg_type t left join pg_type e on e.oid = t.typelem
         where t.oid = any (coalesce(p.proallargtypes, p.proargtypes::oid[]) || p.prorettype)
           and (t.typrelid <> 0 and t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) <> 'c'
             or e.typrelid <> 0 and e.typtype = 'c' and (select relkind from pg_class where oid = e.typrelid) <> 'c')))
      order by n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '[]')
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace left join ${extensionOwned('pg_proc')} ext on ext.objid = p.oid
    where p.prokind <> 'a' and ext.objid is null and ${USER_NAMESPACE}) as functions,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'name', tg.tgname, 'definition', pg_get_triggerdef(tg.oid))
      order by n.nspname, c.relname, tg.tgname), '[]')
     from pg_trigger tg join pg_class c on c.oid = tg.tgrelid join pg_namespace n on n.oid = c.relnamespace
     join pg_proc f on f.oid = tg.tgfoid join pg_namespace fn on fn.oid = f.pronamespace
     left join ${extensionOwned('pg_class')} ext on ext.objid = c.oid
    where not tg.tgisinternal and tg.tgparentid = 0 and ext.objid is null and ${NAMESPACE_FILTER}
      and (n.nspname <> all($1::text[]) or fn.nspname <> all($1::text[]))) as triggers`;

export interface DdlCatalogOptions {
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
}

/** Reads the DDL catalog in one read-only transaction (two statements), always ending it. */
export async function readDdlCatalog(session: Session, options: DdlCatalogOptions = {}): Promise<DdlCatalog> {
  const systemSchemas = [...SYSTEM_SCHEMAS];
  await session.begin({
    access: 'read only',
    isolation: 'repeatable read',
    statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 3_000,
    // Every name outside pg_catalog printed schema-qualified, as the rest of introspection reads them.
    searchPath: 'pg_catalog',
  });
  try {
    const [structure] = await session.query<Omit<DdlCatalog, 'functions' | 'triggers'>>(STRUCTURE_SQL, [systemSchemas]).catch((error: unknown) => {
      throw new IntrospectionError('lab DDL: types and tables', error);
    });
    const [definitions] = await session.query<Pick<DdlCatalog, 'functions' | 'triggers'>>(DEFINITIONS_SQL, [systemSchemas]).catch((error: unknown) => {
      throw new IntrospectionError('lab DDL: functions and triggers', error);
    });
    return { ...structure!, ...definitions! };
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
}
