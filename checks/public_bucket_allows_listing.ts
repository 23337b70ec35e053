import { defineCheck } from '../src/model/check.ts';
import type { CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { quoteIdent, quoteLiteral } from '../src/model/ident.ts';
import { API_ROLES } from '../src/model/schemas.ts';
import { PUBLIC_ROLE, type Policy, type StorageBucket } from '../src/model/snapshot.ts';
import { analyzePolicy } from '../src/policy/index.ts';
import { conjunctTexts } from '../src/policy/index-match.ts';
import { apiRolesWith, PUBLIC_CONTENT } from './_shared.ts';


const CALLER_TEXT = /\bauth\.(?:uid|jwt)\s*\(|request\.jwt\.claim/i;

/** A SELECT policy on storage.objects and what it lets the API roles list. */
interface ListingPolicy {
  readonly policy: Policy;
  readonly roles: readonly string[];
  /** Mentions no bucket: applies to every bucket. */
  readonly everyBucket: boolean;
}

/**
 * Permissive SELECT/ALL policies on storage.objects for anon/authenticated that are not keyed to the
 * caller (auth.uid(), the JWT): whoever has the role may list what they match.
 */
/** `name LIKE 'public/%'`, `starts_with(name, 'x')`, `(storage.foldername(name))[1] = 'public'`: a listing of one prefix, not of every file. */
const PREFIX_LIMIT = /\bname\s+(?:~~|like|ilike|~~\*)\s+'[^'%_]+[^']*'|starts_with\s*\(\s*(?:objects\.)?name\b|\(\s*storage\.foldername\s*\(\s*(?:objects\.)?name\s*\)\s*\)\s*\[\s*1\s*\]\s*=\s*'/i;

function listingPolicies(ctx: CheckContext): ListingPolicy[] {
  const objects = ctx.relation('storage', 'objects');
  // Supabase grants anon and authenticated every privilege on storage.objects; a storage schema whose
  // objects table no API role holds anything on is not Supabase's (a test shim): assume the hosted grants.
  const granted = objects ? apiRolesWith(ctx, objects, ['SELECT']) : [];
  const anyGrant = objects ? API_ROLES.some((r) => ctx.privileges.role(r) && ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].some((p) => ctx.privileges.hasOnRelation(objects, r, p as 'SELECT'))) : false;
  const readers = objects && anyGrant ? granted : [...API_ROLES];
  return ctx.snapshot.policies.flatMap((policy) => {
    if (policy.schema !== 'storage' || policy.table !== 'objects' || !policy.permissive) return [];
    if (policy.command !== 'SELECT' && policy.command !== 'ALL') return [];
    const roles = readers.filter((r) => policy.roles.includes(r) || policy.roles.includes(PUBLIC_ROLE));
    if (roles.length === 0 || keyedToCaller(policy, ctx)) return [];
    if (policy.using !== null && (conjunctTexts(policy.using) ?? []).some((c) => PREFIX_LIMIT.test(c))) return [];
    return [{ policy, roles, everyBucket: policy.using === null || !/bucket_id/i.test(policy.using) }];
  });
}

/** `auth.uid() IS NOT NULL` and friends: they need a signed-in caller but do not tie rows to one. */
const NULL_TEST = /(?:\(\s*select\s+)?auth\.(?:uid|jwt)\s*\(\s*\)(?:\s+as\s+\w+)?\s*\)?\s*\)?\s*is\s+(?:not\s+)?null/gi;

/** The policy ties rows to the caller (owner column, folder named after auth.uid(), a JWT claim). */
function keyedToCaller(policy: Policy, ctx: CheckContext): boolean {
  if (policy.using === null) return false;
  const parsed = analyzePolicy(policy, ctx.snapshot).using;
  if (parsed && parsed.parseError === null && parsed.alwaysTrue !== 'no') return false;
  if (parsed && parsed.parseError === null && parsed.callerTied) return true;
  return CALLER_TEXT.test(policy.using.replace(NULL_TEST, ''));
}

/** Matches the bucket: no bucket mentioned at all, or its id as a string literal in the expression. */
function matches(listing: ListingPolicy, bucket: StorageBucket): boolean {
  if (listing.everyBucket) return true;
  const using = listing.policy.using!;
  // Postgres prints the literal as written under standard_conforming_strings ('a\z'), quoteLiteral writes E'a\\z': try both.
  const plain = `'${bucket.id.replaceAll("'", "''")}'`;
  return using.includes(plain) || using.includes(quoteLiteral(bucket.id));
}

export default defineCheck({
  meta: {
    id: 'public_bucket_allows_listing',
    title: 'Public bucket can be listed',
    level: 'medium',
    category: 'security',
    facing: 'external',
    splinter: 'public_bucket_allows_listing',
    description:
      'A public storage bucket has a SELECT policy on storage.objects that lets anon or authenticated list every file in it, which public URLs do not need.',
  },
  run(ctx) {
    const listing = listingPolicies(ctx);
    if (listing.length === 0) return [];
    const out: FindingDraft[] = [];
    for (const bucket of ctx.snapshot.buckets) {
      if (!bucket.public) continue;
      const found = listing.filter((l) => matches(l, bucket));
      if (found.length === 0) continue;
      const roles = [...new Set(found.flatMap((l) => l.roles))].sort();
      const names = found.map((l) => l.policy.name).sort();
      // Dropping is the fix only for SELECT policies about this bucket alone; others also serve other buckets or writes.
      const droppable = found.every(
        (l) => l.policy.command === 'SELECT' && !l.everyBucket && ctx.snapshot.buckets.every((b) => b.id === bucket.id || !matches(l, b)),
      );
      // The lab's listing: anon or an outsider listed another user's files in this bucket.
      const listed = (ctx.snapshot.labAttacks ?? []).filter((a) => a.command === 'reach' && a.column === `list in public bucket '${bucket.id}'`);
      const who = listed.find((a) => a.attacker === 'anon') ?? listed[0];
      // Listed, every file's path is known, and a public bucket serves every path: the whole bucket is
      // disclosed. That is what an avatar or a product image is for; not attachments or documents.
      // Only where plain users upload are the files theirs: a bucket only admins fill holds what the project publishes.
      const usersUpload = who?.uploaders === undefined || who.uploaders.length > 0;
      const private_ = who !== undefined && usersUpload && !PUBLIC_CONTENT.test(bucket.id) && !PUBLIC_CONTENT.test(bucket.name);
      out.push({
        ...(private_ ? { level: 'high' as const } : {}),
        message:
          `Bucket ${bucket.name} is public, so its files are served by URL without any policy, yet ` +
          `${names.map((n) => `policy "${n}"`).join(', ')} on storage.objects also let${names.length === 1 ? 's' : ''} ${roles.join(' and ')} ` +
          'list every file in it, names and metadata included.' +
          (who
            ? ` Confirmed in the lab: ${who.attacker === 'anon' ? 'anyone with the anon key' : 'any signed-up account'} listed ${who.gained['storage.objects']?.after ?? 0} file(s) another user uploaded, and with their paths downloads them` +
              (private_
                ? ': every file in the bucket is disclosed (users upload there, and its name does not say its files are meant for everyone).'
                : usersUpload
                  ? ' (fine if every file in it is meant for everyone).'
                  : ' (only privileged accounts upload there: what the project publishes, fine if meant for everyone).')
            : ''),
        object: { schema: 'storage', name: bucket.id, type: 'bucket' },
        roles,
        remediation: droppable
          ? {
              text: 'Drop the listing policy: public URLs keep working. Keep a SELECT policy only if clients must list or download through the authenticated API, and scope it to the caller\'s folder.',
              sql: found.map((l) => `DROP POLICY ${quoteIdent(l.policy.name)} ON storage.objects;`).join('\n'),
            }
          : {
              text:
                'Narrow the policy so it no longer matches this bucket (for example `bucket_id <> ' + quoteLiteral(bucket.id) + '` or a folder owned by the caller); ' +
                'dropping it would also remove access it grants to other buckets' + (found.some((l) => l.policy.command === 'ALL') ? ' or the writes an ALL policy allows.' : '.'),
            },
        evidence: { policies: names, commands: found.map((l) => l.policy.command), ...(who ? { lab: { attacker: who.attacker, steps: who.steps, gained: who.gained } } : {}) },
      });
    }
    return out;
  },
});
