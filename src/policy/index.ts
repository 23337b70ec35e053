/** The parsed policy model: parse, analyse and rewrite RLS policy expressions. */
export { initPolicyParser, isPolicyParserReady, parseExpression } from './parse.ts';
export type { ParseExpressionResult, ParsedExpression, ParseFailure } from './parse.ts';
export { analyzeExpression, analyzePolicies, analyzePolicy } from './analyze.ts';
export type { ExpressionContext } from './analyze.ts';
export { alterPolicySql, rewritePerRowCalls, wrapPerRowCalls } from './rewrite.ts';
export type { PolicyChanges, RewriteOptions, RewriteResult } from './rewrite.ts';
export { scanFunctionBody, snapshotIndex, unqualifiedSchemas } from './resolve.ts';
export type { BodyInfo, ResolvedFunction, SnapshotIndex } from './resolve.ts';
export { closeFunctionSql, policyAnalysesByTable, policyAnalysesOf, policyTablesCalling } from './usage.ts';
export type * from './types.ts';
