import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { sensitiveMatcher } from '../src/engine/context.ts';
import { relationObject, roleList, userTables } from './_shared.ts';
import { apiWriters, isAuditLog, recordsChanges } from './_audit_trail.ts';

/** A generic trail: one table, one trigger function, a trigger per table (idempotent but for the trigger). */
function trailSql(schema: string, name: string): string {
  const trigger = quoteIdent(`${name}_audit_trail`.slice(0, 63));
  return [
    'CREATE SCHEMA IF NOT EXISTS private;',
    'CREATE TABLE IF NOT EXISTS private.audit_trail (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), actor uuid DEFAULT auth.uid(), table_name text NOT NULL, op text NOT NULL, old_row jsonb, new_row jsonb);',
    "CREATE OR REPLACE FUNCTION private.record_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$ BEGIN INSERT INTO private.audit_trail (table_name, op, old_row, new_row) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END, CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END); RETURN NULL; END $$;",
    'REVOKE ALL ON FUNCTION private.record_change() FROM PUBLIC;',
    `CREATE TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE ON ${qualified(schema, name)} FOR EACH ROW EXECUTE FUNCTION private.record_change();`,
  ].join('\n');
}

export default defineCheck({
  meta: {
    id: 'audit_trail_missing',
    title: 'Sensitive data changes leave no trail',
    level: 'low',
    category: 'security',
    facing: 'external',
    description:
      'A table with sensitive columns that anon or authenticated can UPDATE or DELETE through the API, while nothing records who changed what: no AFTER trigger, no trigger writing elsewhere, no pgaudit.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    for (const rel of userTables(ctx)) {
      if (!ctx.isExposed(rel.schema) || isAuditLog(ctx, rel)) continue;
      const sensitive = rel.columns.map((c) => c.name).filter((c) => isSensitive(c) !== null);
      if (sensitive.length === 0) continue;
      const update = apiWriters(ctx, rel, 'UPDATE');
      const del = apiWriters(ctx, rel, 'DELETE');
      const roles = [...new Set([...update, ...del])];
      if (roles.length === 0 || recordsChanges(ctx, rel) !== null) continue;
      const verbs = [update.length > 0 ? 'change' : null, del.length > 0 ? 'delete' : null].filter(Boolean).join(' or ');
      out.push({
        level: roles.includes('anon') ? 'medium' : 'low',
        message:
          `${roleList(roles)} can ${verbs} rows of ${qualified(rel.schema, rel.name)} (${sensitive.slice(0, 4).join(', ')}${sensitive.length > 4 ? ', …' : ''}) through the API, and nothing records it ` +
          '(no audit trigger, no pgaudit): a disputed change cannot be traced to the account that made it, and an incident cannot be reconstructed.',
        object: relationObject(rel),
        roles,
        remediation: {
          text: 'Record every change with an AFTER trigger into a table clients cannot write (or enable the supa_audit extension: `select audit.enable_tracking(\'public.t\'::regclass)`); pgaudit on the database also counts.',
          sql: trailSql(rel.schema, rel.name),
        },
        evidence: { sensitiveColumns: sensitive, update, delete: del },
      });
    }
    return out;
  },
});
