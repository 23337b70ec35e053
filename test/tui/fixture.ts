/** The demo project audited for real (embedded Postgres), and a large report derived from it. */
import { runAudit } from '../../src/engine/audit.ts';
import { resolveTarget } from '../../src/introspect/targets/index.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';

let demo: Promise<{ report: Report; stages: string[] }> | undefined;

/** The bundled demo's report and the stages `runAudit` announced, once per test file. */
export function demoAudit(): Promise<{ report: Report; stages: string[] }> {
  demo ??= (async () => {
    const stages: string[] = [];
    const { report } = await runAudit(resolveTarget({ demo: true }), { onStage: (s) => stages.push(s) });
    return { report, stages };
  })();
  return demo;
}

/** `count` findings: the demo's findings repeated over numbered copies of their objects. */
export function largeReport(base: Report, count: number): Report {
  const findings: Finding[] = [];
  for (let i = 0; findings.length < count; i++) {
    const f = base.findings[i % base.findings.length]!;
    const copy = Math.floor(i / base.findings.length);
    const name = `${f.object.name}_${String(copy).padStart(3, '0')}`;
    findings.push({ ...f, object: { ...f.object, name }, fingerprint: `${f.check}:${f.object.schema}.${name}#${i}` });
  }
  return { ...base, findings };
}
