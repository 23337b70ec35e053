import { beforeAll, describe, expect, it } from 'vitest';
import { initPolicyParser, isPolicyParserReady, parseExpression } from '../../src/policy/index.ts';
import { makeOffsetMapper } from '../../src/policy/parse.ts';

beforeAll(async () => {
  await Promise.all([initPolicyParser(), initPolicyParser()]);
  await initPolicyParser(); // idempotent
});

describe('parseExpression', () => {
  it('returns the expression node of a pg_get_expr text', () => {
    const r = parseExpression('(auth.uid() = user_id)');
    expect(isPolicyParserReady()).toBe(true);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.ast)).toEqual(['A_Expr']);
    const expr = (r.ast as { A_Expr: { lexpr: { FuncCall: { location: number } } } }).A_Expr;
    expect(r.sourceOffset(expr.lexpr.FuncCall.location)).toBe(1);
  });

  it('accepts multi-line deparsed sub-selects, casts and quoted identifiers', () => {
    for (const text of [
      'true',
      "(((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)",
      '(EXISTS ( SELECT 1\n   FROM team_members tm\n  WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid()))))',
      '("Owner Id" = ( SELECT auth.uid() AS uid))',
      "(((current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text) = (owner_id)::text)",
      'owner_id = auth.uid() -- trailing comment',
    ]) {
      expect(parseExpression(text).ok, text).toBe(true);
    }
  });

  it('gives the parser message and position for unparseable text, without throwing', () => {
    const r = parseExpression('owner_id = auth.uid() AND (');
    expect(r).toEqual({ ok: false, error: 'syntax error at end of input', position: 27 });
    const r2 = parseExpression('owner_id = = 1');
    expect(r2.ok).toBe(false);
    if (!r2.ok) {
      expect(r2.error).toBe('syntax error at or near "="');
      expect(r2.position).toBe(11);
    }
    expect(parseExpression('')).toEqual({ ok: false, error: 'empty expression', position: null });
    expect(parseExpression('   ')).toEqual({ ok: false, error: 'empty expression', position: null });
  });

  it('rejects texts that are not a single expression', () => {
    expect(parseExpression('true; DROP TABLE users').ok).toBe(false);
    expect(parseExpression('true UNION SELECT 1').ok).toBe(false);
    expect(parseExpression('true ORDER BY 1').ok).toBe(false);
    expect(parseExpression('true GROUP BY 1').ok).toBe(false);
    expect(parseExpression('true LIMIT 1').ok).toBe(false);
    expect(parseExpression('true FOR UPDATE').ok).toBe(false);
  });

  it('handles 1,000-deep nesting (ANDs, parentheses) and fails cleanly beyond the parser limit', () => {
    let and = 'x = 1';
    for (let i = 0; i < 1000; i++) and = `(a${i} = 1 AND ${and})`;
    expect(parseExpression(and).ok).toBe(true);
    let parens = 'true';
    for (let i = 0; i < 1000; i++) parens = `(${parens})`;
    expect(parseExpression(parens).ok).toBe(true);
    let tooDeep = 'true';
    for (let i = 0; i < 20000; i++) tooDeep = `(${tooDeep})`;
    const r = parseExpression(tooDeep);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/memory exhausted|stack depth/);
  });

  it('maps byte locations to character offsets for non-ASCII text', () => {
    const text = '"Tëam ñame" = 1 AND auth.uid() = "Ownér"';
    const r = parseExpression(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const and = (r.ast as { BoolExpr: { args: { A_Expr: { lexpr: { FuncCall?: { location: number } }; rexpr: { ColumnRef?: { location: number } } } }[] } })
      .BoolExpr;
    const call = and.args[1]!.A_Expr.lexpr.FuncCall!;
    expect(r.sourceOffset(call.location)).toBe(text.indexOf('auth.uid()'));
    const col = and.args[1]!.A_Expr.rexpr.ColumnRef!;
    expect(r.sourceOffset(col.location)).toBe(text.indexOf('"Ownér"'));
    expect(makeOffsetMapper('abc')(-1)).toBe(-1);
  });
});
