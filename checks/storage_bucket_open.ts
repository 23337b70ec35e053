import { defineCheck, type CheckContext } from '../src/model/check.ts';
import { quoteIdent, quoteLiteral } from '../src/model/ident.ts';
import type { Policy } from '../src/model/snapshot.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import type { Level } from '../src/model/level.ts';
import { conjunctTexts, privilegeGate } from '../src/policy/index-match.ts';
import { policyAnalyses, policyEffectiveRoles, policyLabel, policyObject } from './_policy_checks.ts';
import { PUBLIC_CONTENT } from './_shared.ts';

const BUCKET_LITERAL = /bucket_id\s*=\s*'((?:[^']|'')*)'(?:::text)?|'((?:[^']|'')*)'(?:::text)?\s*=\s*(?:objects\.)?bucket_id/gi;

type Action = 'read' | 'overwrite' | 'delete' | 'upload';

const ACTIONS: Record<string, readonly Action[]> = {
  SELECT: ['read'],
  UPDATE: ['overwrite'],
  DELETE: ['delete'],
  INSERT: ['upload'],
  ALL: ['read', 'overwrite', 'delete', 'upload'],
};

/** What each role reaching a bucket-only policy can do to every object of the bucket. */
function level(actions: readonly Action[], anon: boolean, publicBucket: boolean): Level | null {
  const writes = actions.some((a) => a === 'overwrite' || a === 'delete');
  const reads = actions.includes('read');
  if (writes) return anon ? 'critical' : 'high';
  // Objects of a public bucket are readable by URL anyway: a read policy on them adds listing (public_bucket_allows_listing).
  if (reads && !publicBucket) return anon ? 'critical' : 'high';
  if (actions.includes('upload')) return anon ? 'high' : null; // authenticated uploads: insert_without_owner_check
  return null;
}

const BUCKET_ONLY = /^\(*\s*(?:(?:storage\.)?objects\.)?bucket_id\s*=\s*'(?:[^']|'')*'(?:::text)?\s*\)*$|^\(*\s*'(?:[^']|'')*'(?:::text)?\s*=\s*(?:(?:storage\.)?objects\.)?bucket_id\s*\)*$/i;
/** Calls that only look at the path or type of the object, which every user's objects share. */
const PATH_ONLY_CALL = /^(?:storage\.)?(?:extension|filename|foldername)$|^(?:lower|upper|split_part|substring|substr|left|right|length|char_length|array_length|position|starts_with|coalesce)$/i;

/**
 * An AND-operand besides the bucket test that limits which objects are reached: a subquery, or a
 * call of a function other than the storage path helpers (`public.non_private_file_exists(name)`).
 * A constant folder or extension (`(storage.foldername(name))[1] = 'public'`) limits nothing per user.
 */
function restricts(conjunct: string): boolean {
  if (BUCKET_ONLY.test(conjunct.trim())) return false;
  if (/\b(SELECT|EXISTS)\b/i.test(conjunct)) return true;
  for (const m of conjunct.matchAll(/((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)\s*\(/g)) {
    if (!PATH_ONLY_CALL.test(m[1]!.replaceAll('"', ''))) return true;
  }
  return false;
}

/** storage.objects' owner column: owner_id (text, current Storage) or the older owner (uuid). */
function ownerColumnOf(ctx: CheckContext): string {
  return ctx.relation('storage', 'objects')?.columns.some((c) => c.name === 'owner_id') ? 'owner_id' : 'owner';
}

/**
 * The policy with an owner tie added (uploads: the caller's own folder), and limited to
 * authenticated when it was open to anon. Null for a policy whose clauses cannot be extended.
 */
function fixSql(ctx: CheckContext, p: Policy, using: string | null, withCheck: string | null, anon: boolean): { sql: string } | null {
  const owner = ownerColumnOf(ctx);
  const tie = owner === 'owner_id' ? 'owner_id = (SELECT auth.uid())::text' : 'owner = (SELECT auth.uid())';
  const folder = '(storage.foldername(name))[1] = (SELECT auth.uid())::text';
  const parts: string[] = [];
  if (anon) parts.push('TO authenticated');
  if (p.command !== 'INSERT' && using) parts.push(`USING ((${using}) AND ${tie})`);
  if (p.command === 'INSERT' || p.command === 'ALL' || p.command === 'UPDATE') {
    const base = withCheck ?? (p.command === 'INSERT' ? null : using);
    if (base) parts.push(`WITH CHECK ((${base}) AND ${p.command === 'INSERT' ? folder : tie})`);
  }
  if (parts.length === (anon ? 1 : 0)) return null;
  return { sql: `ALTER POLICY ${quoteIdent(p.name)} ON storage.objects ${parts.join(' ')};` };
}

export default defineCheck({
  meta: {
    id: 'storage_bucket_open',
    title: 'Storage objects of a bucket open to every caller',
    level: 'high',
    proves: true,
    category: 'security',
    facing: 'external',
    labClaim: 'storage',
    description:
      'A policy on storage.objects that lets anon or authenticated read (private bucket), overwrite or delete objects, gated only by the bucket (bucket_id = …) with no tie to the caller (owner, a folder named after auth.uid()) and no admin gate: every user can touch every object of that bucket.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const buckets = ctx.snapshot.buckets;
    for (const a of policyAnalyses(ctx)) {
      const p = a.policy;
      if (p.schema !== 'storage' || p.table !== 'objects' || !p.permissive) continue;
      const clause = p.command === 'INSERT' ? a.withCheck : a.using;
      if (!clause || clause.parseError !== null) continue;
      // Tied to the caller in any way (owner, owner_id, a folder or file name compared with auth.uid()), or admin-gated: not open.
      if (clause.usesAuthUid || clause.callerTied || clause.ownerTie.length > 0 || privilegeGate(clause.text) !== null) continue;
      if (/auth\.(jwt|email)\s*\(|request\.jwt/i.test(clause.text)) continue;
      // Another condition ANDed with the bucket (a helper on the file name, a subquery) decides which objects: not bucket-only.
      const conjuncts = conjunctTexts(clause.text) ?? [];
      if (conjuncts.some(restricts)) continue;
      // Limited to a constant folder or file type (`(storage.foldername(name))[1] = 'public'`): a deliberate public corner, most likely.
      const pathLimited = conjuncts.find((c) => !BUCKET_ONLY.test(c.trim()));
      const ids = [...clause.text.matchAll(BUCKET_LITERAL)].map((m) => (m[1] ?? m[2] ?? '').replaceAll("''", "'"));
      // Not bucket-scoped at all: an always-true or other policy, another check's concern.
      if (ids.length === 0) continue;
      const roles = policyEffectiveRoles(ctx, a).granted.filter((r) => r === 'anon' || r === 'authenticated');
      if (roles.length === 0) continue;
      const anon = roles.includes('anon');
      for (const id of [...new Set(ids)]) {
        const bucket = buckets.find((b) => b.id === id);
        // A bucket storage.buckets does not hold (created later, by the dashboard): reading it is not judged.
        const publicBucket = bucket?.public ?? true;
        const actions = ACTIONS[p.command] ?? [];
        const readOnly = actions.every((x) => x === 'read');
        // Reading every file of a bucket whose name says its files are shown to everyone (profile
        // pictures, group logos) is what the bucket is for, most likely: medium, saying so.
        const shown = readOnly && !publicBucket && PUBLIC_CONTENT.test(id);
        const base = level(actions, anon, publicBucket);
        const lvl = pathLimited !== undefined && readOnly && base !== null ? 'low' : shown && base !== null ? 'medium' : base;
        if (lvl === null) continue;
        const verbs = actions.filter((x) => (x !== 'read' || !publicBucket) && (x !== 'upload' || anon));
        const onExisting = verbs.filter((v) => v !== 'upload');
        const what = [onExisting.length > 0 ? `${onExisting.join(', ')} every object` : '', verbs.includes('upload') ? 'upload any object' : ''].filter(Boolean).join(' and ');
        const fix = fixSql(ctx, p, a.using?.text ?? null, a.withCheck?.text ?? null, anon);
        const command = p.command === 'SELECT' ? 'select' : p.command === 'DELETE' ? 'delete' : p.command === 'INSERT' ? 'insert' : 'update';
        out.push({
          level: lvl,
          message:
            `${policyLabel(p)} lets ${roles.join(' and ')} ${what} in bucket '${id}'${bucket ? (publicBucket ? ' (public)' : ' (private)') : ' (not found in storage.buckets)'}: ` +
            (pathLimited !== undefined && readOnly
              ? `it checks the bucket and ${pathLimited}, not who owns the object: if that part of the bucket is meant to be public, this is by design (then say so in a suppression); if not, every object put there is readable.`
              : `it checks only the bucket, not who owns the object (owner_id, or a first folder named after auth.uid()).` +
                (shown && pathLimited === undefined ? ' Its name says its files are shown to everyone (pictures, logos): fine if so, then make the bucket public or suppress this with the reason.' : '')) +
            (anon ? ' anon is anyone with the project URL and the anon key.' : ' authenticated is anyone who signs up.'),
          object: policyObject(p),
          roles,
          detail: id,
          remediation: {
            text:
              "Tie the objects to their owner: `owner_id = (select auth.uid())::text` (set by the Storage API on upload), or Supabase's folder convention " +
              "`(storage.foldername(name))[1] = (select auth.uid())::text`; give anon no write policy at all. If the bucket is meant to be shared, say who may write (a team membership), not everyone." +
              (anon ? ' The SQL below also limits the policy to signed-in users.' : ''),
            ...(fix ? { sql: fix.sql } : {}),
          },
          evidence: { bucket: id, public: publicBucket, command: p.command, using: a.using?.text ?? null, withCheck: a.withCheck?.text ?? null },
          ...(fix
            ? {
                exploit: {
                  kind: 'reach' as const,
                  role: anon ? 'anon' : 'authenticated',
                  table: { schema: 'storage', name: 'objects' },
                  command,
                  scope: `bucket_id = ${quoteLiteral(id)}`,
                  bucket: id,
                  ownerColumn: ownerColumnOf(ctx),
                  fix: fix.sql,
                },
              }
            : {}),
        });
      }
    }
    return out;
  },
});
