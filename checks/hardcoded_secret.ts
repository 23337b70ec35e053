import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft, FindingObject } from '../src/model/finding.ts';
import type { Level } from '../src/model/level.ts';
import { functionObject } from './_shared.ts';

/** A credential written into SQL: where it was found and how bad it is. */
interface SecretHit {
  readonly kind: string;
  readonly level: Level;
  /** The first characters only: the report must not become the leak. */
  readonly masked: string;
}

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.(eyJ[A-Za-z0-9_-]{5,})\.[A-Za-z0-9_-]{10,}/g;
const POSTGRES_URL = /\bpostgres(?:ql)?:\/\/[^:/?#@\s'"]+:([^@\s'"]+)@[^\s'"/]+/g;
/** Credentials recognisable by their prefix, with the level their reach deserves. */
const PREFIXED: readonly { readonly re: RegExp; readonly kind: string; readonly level: Level }[] = [
  { re: /\bsb_secret_[A-Za-z0-9_-]{16,}/g, kind: 'Supabase secret API key (bypasses RLS)', level: 'critical' },
  { re: /\b[sr]k_live_[0-9A-Za-z]{16,}/g, kind: 'Stripe live secret key', level: 'critical' },
  { re: /\bwhsec_[0-9A-Za-z+/=]{20,}/g, kind: 'Stripe webhook signing secret', level: 'high' },
  { re: /\bAKIA[0-9A-Z]{16}\b/g, kind: 'AWS access key id', level: 'high' },
  { re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, kind: 'GitHub token', level: 'high' },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, kind: 'Slack token', level: 'high' },
  { re: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, kind: 'SendGrid API key', level: 'high' },
];
/** A URL written as a regular expression (`'^postgresql://[^:]+:[^@]+@'` in a validation function): a pattern, not a credential. */
const REGEX_PATTERN = /\[\^|\][+*?]|\\[dwsSDW.]|\.[*+]/;
/** Passwords that are placeholders, not secrets. */
const PLACEHOLDER = /^(\*+|x+|\$\{?[A-Za-z_]+\}?|<[^>]*>|:?password|pass(word)?|secret|changeme|change-me|your[-_]?password)$/i;

function mask(value: string): string {
  return `${value.slice(0, Math.min(6, Math.floor(value.length / 4)))}…(${value.length} characters)`;
}

function jwtClaims(payload: string): { role: string | null; iss: string | null } {
  try {
    const json = JSON.parse(Buffer.from(payload.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as { role?: unknown; iss?: unknown };
    return { role: typeof json.role === 'string' ? json.role : null, iss: typeof json.iss === 'string' ? json.iss : null };
  } catch {
    return { role: null, iss: null };
  }
}

/** Every credential in a SQL text. A JWT for `anon` is the public anon key and not a secret. */
export function findSecrets(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const m of text.matchAll(JWT)) {
    const { role, iss } = jwtClaims(m[1]!);
    if (role === null || role === 'anon') continue;
    const admin = role === 'service_role' || role === 'supabase_admin' || role === 'postgres';
    // The Supabase CLI's local development keys (iss "supabase-demo") are published with the CLI: no secret, and not valid on a hosted project.
    if (iss === 'supabase-demo') {
      hits.push({ kind: `the Supabase CLI's public local-development JWT for role ${role} (iss supabase-demo: valid only on a local stack, so the code breaks once deployed)`, level: 'low', masked: mask(m[0]) });
      continue;
    }
    hits.push({ kind: `JWT for role ${role}${admin ? ' (bypasses RLS)' : ''}`, level: admin ? 'critical' : 'high', masked: mask(m[0]) });
  }
  for (const m of text.matchAll(POSTGRES_URL)) {
    if (PLACEHOLDER.test(m[1]!) || REGEX_PATTERN.test(m[0])) continue;
    hits.push({ kind: 'Postgres connection URL with a password', level: 'critical', masked: mask(m[0]) });
  }
  for (const p of PREFIXED) for (const m of text.matchAll(p.re)) hits.push({ kind: p.kind, level: p.level, masked: mask(m[0]) });
  return hits;
}

const ORDER: readonly Level[] = ['critical', 'high', 'medium', 'low', 'info'];

export default defineCheck({
  meta: {
    id: 'hardcoded_secret',
    title: 'Credential written into SQL',
    level: 'critical',
    category: 'security',
    facing: 'internal',
    description:
      'A function body, view definition or column default holds a credential (a service_role JWT, a secret API key, a Postgres URL with a password): every role that can read the catalog can read it, and it lives on in migrations and dumps.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const report = (object: FindingObject, where: string, text: string | null, detail?: string) => {
      if (!text) return;
      const hits = findSecrets(text);
      if (hits.length === 0) return;
      const level = ORDER.find((l) => hits.some((h) => h.level === l))!;
      const kinds = [...new Set(hits.map((h) => h.kind))];
      out.push({
        level,
        message: `${where} holds ${kinds.join(', ')}: any role that can read the catalog (pg_proc, pg_views, pg_attrdef are readable by every role) and anyone with a dump or the migration files has it.`,
        object,
        ...(detail ? { detail } : {}),
        remediation: {
          text: 'Rotate the credential now (it has leaked to everyone who could read the catalog or the migrations), then keep its replacement in Supabase Vault and read it at run time from a SECURITY DEFINER function in a schema that is not exposed (select decrypted_secret from vault.decrypted_secrets where name = …).',
        },
        evidence: { found: hits.map((h) => ({ kind: h.kind, value: h.masked })) },
      });
    };
    for (const fn of ctx.snapshot.functions) {
      if (!ctx.isUserObject(fn.schema, fn.extension)) continue;
      report(functionObject(fn), `function ${fn.schema}.${fn.name}(${fn.identityArgs})`, fn.source);
    }
    for (const rel of ctx.snapshot.relations) {
      if (!ctx.isUserObject(rel.schema, rel.extension)) continue;
      if (rel.kind === 'view' || rel.kind === 'materialized_view') {
        report({ schema: rel.schema, name: rel.name, type: rel.kind === 'view' ? 'view' : 'materialized_view' }, `${rel.kind.replace('_', ' ')} ${rel.schema}.${rel.name}`, rel.viewDefinition);
      }
      for (const column of rel.columns) {
        report({ schema: rel.schema, name: rel.name, type: 'column', column: column.name }, `the default of ${rel.schema}.${rel.name}.${column.name}`, column.default, column.name);
      }
    }
    return out;
  },
});
