/** A merge that left its conflict markers in a tracked file (the README once shipped with one) fails here. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

describe('tracked files', () => {
  test('carry no merge-conflict markers', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter((f) => /\.(ts|tsx|mjs|js|md|json|sql|toml|ya?ml)$/.test(f));
    expect(files.length).toBeGreaterThan(100);
    const marked = files.filter((f) => /^(<{7} |>{7} |={7}$)/m.test(readFileSync(f, 'utf8')));
    expect(marked).toEqual([]);
  });
});
