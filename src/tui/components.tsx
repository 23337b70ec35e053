/** Display-only pieces of the review: they take readonly props and draw; no state, no effects of their own. */
import { Spinner, TextInput } from '@inkjs/ui';
import { Box, Text } from 'ink';
import { newFingerprints } from '../engine/baseline.ts';
import type { Report } from '../model/report.ts';
import { clip, findingRow, levelCounts, roleLines, roleListWidth, seg, type Line, type Segment, type Tone } from './lines.ts';
import type { Dialog, Message, Row, Stage, State } from './state.ts';
import { visibleCounts } from './state.ts';

interface Style {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
}

/** Tones to Ink styles; with colour off (NO_COLOR, --no-color) only bold, dim and inverse remain. */
function style(tone: Tone | undefined, color: boolean): Style {
  switch (tone) {
    case undefined:
      return {};
    case 'critical':
      return color ? { color: 'red', bold: true } : { bold: true };
    case 'high':
      return color ? { color: 'red' } : {};
    case 'medium':
      return color ? { color: 'yellow' } : {};
    case 'low':
      return color ? { color: 'blue' } : {};
    case 'info':
    case 'dim':
      return color ? { color: 'gray' } : { dimColor: true };
    case 'good':
      return color ? { color: 'green' } : {};
    case 'accent':
      return color ? { color: 'cyan' } : {};
    case 'bold':
      return { bold: true };
    case 'mark':
      return color ? { color: 'black', backgroundColor: 'yellow' } as Style : { inverse: true };
  }
}

function Segments({ segments, color }: { readonly segments: readonly Segment[]; readonly color: boolean }) {
  return (
    <>
      {segments.map((s, i) => (
        <Text key={i} {...style(s.tone, color)}>
          {s.text}
        </Text>
      ))}
    </>
  );
}

/** A window of pre-cut lines: exactly `height` lines are drawn, so the frame never outgrows the terminal. */
export function LinesView({ lines, offset, height, color, focus }: { readonly lines: readonly Line[]; readonly offset: number; readonly height: number; readonly color: boolean; readonly focus?: number }) {
  const start = Math.max(0, Math.min(offset, Math.max(0, lines.length - height)));
  const shown = lines.slice(start, start + height);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {shown.map((l, i) => (
        <Text key={start + i} wrap="truncate" inverse={focus === start + i}>
          {l.length === 0 ? ' ' : <Segments segments={l} color={color} />}
        </Text>
      ))}
    </Box>
  );
}

const VIEW_TABS = [
  ['overview', '1 Overview'],
  ['findings', '2 Findings'],
  ['roles', '3 Roles'],
] as const;

export function Header({ state, width, color }: { readonly state: State; readonly width: number; readonly color: boolean }) {
  const active = state.view === 'detail' ? 'findings' : state.view;
  const tabs: Segment[] = [seg('supaudit', 'bold'), seg('  ')];
  for (const [view, label] of [...VIEW_TABS, ...(state.report?.load ? [['load', '4 Load'] as const] : []), ...(state.report?.lab ? [['lab', '5 Lab'] as const] : [])]) {
    tabs.push(seg(` ${label} `, view === active ? 'mark' : 'dim'), seg(' '));
  }
  if (state.view === 'detail') tabs.push(seg('› detail', 'accent'));
  if (state.view === 'help') tabs.push(seg('› help', 'accent'));
  if (state.view === 'progress') tabs.push(seg(state.run.status === 'failed' ? '› audit failed' : '› auditing…', state.run.status === 'failed' ? 'critical' : 'accent'));
  return (
    <Text wrap="truncate">
      <Segments segments={clip(tabs, width)} color={color} />
    </Text>
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function ProgressView({ state, now, height, width, color }: { readonly state: State; readonly now: number; readonly height: number; readonly width: number; readonly color: boolean }) {
  const { run } = state;
  const stages: readonly Stage[] = run.stages.slice(-Math.max(1, height - 4));
  const failed = run.status === 'failed';
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text wrap="truncate">
        <Segments segments={[seg(failed ? 'Audit failed' : 'Auditing', 'bold'), seg(`  ${seconds((stages.at(-1)?.endedAt ?? now) - run.startedAt)} elapsed · ${run.stages.length} stages`, 'dim')]} color={color} />
      </Text>
      <Text> </Text>
      {stages.map((s, i) => {
        const last = i === stages.length - 1;
        const running = s.endedAt === undefined && !failed;
        const label = `${s.name.padEnd(Math.min(44, width - 14))} ${seconds((s.endedAt ?? now) - s.startedAt)}`;
        if (running) return <Spinner key={s.name + i} label={label} />;
        const broken = failed && last;
        return (
          <Text key={s.name + i} wrap="truncate">
            <Segments segments={[seg(broken ? '✗ ' : '✓ ', broken ? 'critical' : 'good'), seg(label, broken ? 'critical' : undefined)]} color={color} />
          </Text>
        );
      })}
      {run.stages.length === 0 && !failed ? <Spinner label="starting" /> : null}
      {failed ? (
        <Box flexDirection="column" marginTop={1}>
          <Text wrap="wrap">
            <Segments segments={[seg(run.error ?? 'the audit failed', 'critical')]} color={color} />
          </Text>
          <Text wrap="truncate">
            <Segments segments={[seg('r', 'accent'), seg(' retry · '), seg('q', 'accent'), seg(' quit')]} color={color} />
          </Text>
        </Box>
      ) : null}
    </Box>
  );
}

function filterSummary(state: State): string {
  const f = state.filters;
  const parts = [f.level ? `≥${f.level}` : '', f.category ?? '', f.role ? `role ${f.role}` : '', f.text ? `/${f.text}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : 'none';
}

/** The findings list: only the rows inside the window are built and drawn, whatever the list's length. */
export function FindingsView({ state, height, width, color }: { readonly state: State; readonly height: number; readonly width: number; readonly color: boolean }) {
  const total = state.report?.findings.length ?? 0;
  const counts = visibleCounts(state);
  const shown = Object.values(counts).reduce((a, b) => a + b, 0);
  const listHeight = Math.max(1, height - 1);
  const window: readonly Row[] = state.rows.slice(state.offset, state.offset + listHeight);
  const accepted = new Set(Object.keys(state.accepted));
  const selected = new Set(state.selected);
  const fresh = state.report ? newFingerprints(state.report) : undefined;
  const lines: Line[] = window.map((row) =>
    row.kind === 'group'
      ? clip([seg(`${row.label} `, 'bold'), seg(`(${row.count})`, 'dim')], width)
      : findingRow(row.finding, width, selected.has(row.finding.fingerprint), accepted.has(row.finding.fingerprint), fresh?.has(row.finding.fingerprint)),
  );
  const head: Segment[] = [
    seg(`${shown}/${total} `, 'bold'),
    ...levelCounts(counts),
    seg(`  group ${state.grouping} · filter ${filterSummary(state)}`, 'dim'),
    ...(state.selected.length > 0 ? [seg(`  ${state.selected.length} fixes marked`, 'accent')] : []),
  ];
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text wrap="truncate">
        <Segments segments={clip(head, width)} color={color} />
      </Text>
      {shown === 0 ? <Text dimColor>{total === 0 ? 'No findings.' : 'No finding matches the filters (x clears them).'}</Text> : <LinesView lines={lines} offset={0} height={listHeight} color={color} focus={state.cursor - state.offset} />}
    </Box>
  );
}

export function RolesView({ report, state, height, width, color }: { readonly report: Report; readonly state: State; readonly height: number; readonly width: number; readonly color: boolean }) {
  const listWidth = roleListWidth(report);
  const focused = report.blastRadius[state.roleCursor];
  const right = focused ? roleLines(focused, width - listWidth - 2) : [];
  const left: Line[] = report.blastRadius.map((b) => clip([seg(b.role.padEnd(listWidth - 5)), seg(b.bypassesRls ? '  — ' : String(Math.round(b.score)).padStart(4), 'dim')], listWidth));
  return (
    <Box flexDirection="row" height={height} overflow="hidden">
      <Box width={listWidth} marginRight={2} flexDirection="column">
        <LinesView lines={left} offset={0} height={height} color={color} focus={state.roleCursor} />
      </Box>
      <Box flexGrow={1} flexDirection="column">
        <LinesView lines={right} offset={state.roleOffset} height={height} color={color} />
      </Box>
    </Box>
  );
}

/** The bottom line: a dialog when one is open, else the last message, else key hints for the view. */
export function StatusLine({
  state,
  width,
  color,
  onAcceptSubmit,
  onSearchChange,
  onSearchSubmit,
}: {
  readonly state: State;
  readonly width: number;
  readonly color: boolean;
  readonly onAcceptSubmit: (reason: string) => void;
  readonly onSearchChange: (text: string) => void;
  readonly onSearchSubmit: () => void;
}) {
  const dialog: Dialog | undefined = state.dialog;
  if (dialog?.kind === 'search') {
    return (
      <Box>
        <Text bold>/ </Text>
        <TextInput defaultValue={state.filters.text} placeholder="check, object, message…" onChange={onSearchChange} onSubmit={onSearchSubmit} />
      </Box>
    );
  }
  if (dialog?.kind === 'accept') {
    return (
      <Box>
        <Text bold>Accept because: </Text>
        <TextInput placeholder="reason (Enter saves to supaudit.ignore.json, Esc cancels)" onSubmit={onAcceptSubmit} />
      </Box>
    );
  }
  if (dialog?.kind === 'confirm-fixes') {
    const n = dialog.fingerprints.length;
    return (
      <Text wrap="truncate">
        <Segments segments={clip([seg(`Write ${n} fix${n === 1 ? '' : 'es'} to ${dialog.path}? `, 'bold'), seg('y', 'accent'), seg('/'), seg('n', 'accent')], width)} color={color} />
      </Text>
    );
  }
  const message: Message | undefined = state.message;
  if (message) {
    return (
      <Text wrap="truncate">
        <Segments segments={clip([seg(message.text, message.tone === 'error' ? 'critical' : 'good')], width)} color={color} />
      </Text>
    );
  }
  return (
    <Text wrap="truncate">
      <Segments segments={clip(hints(state), width)} color={color} />
    </Text>
  );
}

function hints(state: State): Segment[] {
  const keys: [string, string][] =
    state.view === 'findings'
      ? [['↑↓', 'move'], ['⏎', 'detail'], ['/', 'search'], ['l c o', 'filter'], ['g', 'group'], ['space', 'mark'], ['w', 'write fixes'], ['a', 'accept']]
      : state.view === 'detail'
        ? [['↑↓', 'scroll'], ['←→', 'prev/next'], ['space', 'mark'], ['w', 'write fix'], ['a', 'accept'], ['esc', 'back']]
        : state.view === 'roles'
          ? [['↑↓', 'role'], ['PgUp/PgDn', 'scroll tables'], ['tab', 'next view']]
          : state.view === 'load' || state.view === 'lab'
            ? [['↑↓', 'scroll'], ['tab', 'next view'], ['e', 'reports']]
          : state.view === 'progress'
            ? state.run.status === 'failed'
              ? [['r', 'retry']]
              : []
            : [['tab', 'next view'], ['e', 'reports'], ['r', 're-run']];
  const out: Segment[] = [];
  for (const [k, what] of [...keys, ['?', 'help'] as [string, string], ['q', 'quit'] as [string, string]]) out.push(seg(k, 'accent'), seg(` ${what}  `, 'dim'));
  return out;
}
