/** Small finding and report fixtures for the pure engine tests. */
import { fingerprint, type Finding, type FindingObject } from '../../src/model/finding.ts';
import type { Level } from '../../src/model/level.ts';

export function finding(check: string, object: Partial<FindingObject> & { name: string }, level: Level = 'high', message = `${check} on ${object.name}`): Finding {
  const o: FindingObject = { schema: 'public', type: 'table', ...object };
  return {
    check,
    level,
    fingerprint: fingerprint(check, o),
    title: check,
    message,
    object: o,
    roles: ['anon'],
    remediation: { text: 'fix it' },
    docs: `checks/${check}.md`,
  };
}
