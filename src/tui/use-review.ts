/**
 * The review's state hook: the reducer, the audit runs, and the commands keys ask for (writes,
 * re-runs). Components receive what it returns and only draw.
 */
import { useApp, useInput, useStdout, type Key } from 'ink';
import { join, relative } from 'node:path';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { UserError } from '../model/errors.ts';
import type { Report } from '../model/report.ts';
import { redact } from '../model/redact.ts';
import { appendIgnore, fixesPath, writeFixes, writeReports } from './actions.ts';
import { commandFor } from './keymap.ts';
import { roleLines, roleListWidth, scrollingLines } from './lines.ts';
import { fixesToWrite, initialState, reducer, type Action, type State } from './state.ts';

export interface ReviewProps {
  /** Runs the audit, telling each stage as it starts. Called again on `r`. */
  readonly audit: (onStage: (stage: string) => void) => Promise<Report>;
  /** Folder the fixes migration goes to. */
  readonly fixesDir: string;
  /** The suppression file accepted findings are appended to. */
  readonly ignorePath: string;
  /** Folder `e` writes the reports to. */
  readonly reportsDir: string;
  /** Paths in messages are shown relative to this folder. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
  /** Told the final state once, when the user quits. */
  readonly onQuit?: (state: State) => void;
}

export interface Layout {
  readonly columns: number;
  readonly rows: number;
  /** Lines between the header and the status line. */
  readonly bodyHeight: number;
  /** Findings rows under the list's own heading. */
  readonly pageSize: number;
}

/** The terminal size, following `resize` events. */
function useLayout(): Layout {
  const { stdout } = useStdout();
  const read = () => ({ columns: Math.max(40, stdout.columns || 80), rows: Math.max(10, stdout.rows || 24) });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  // One line is left free: a frame as tall as the terminal makes Ink redraw the whole screen.
  const bodyHeight = size.rows - 3;
  return { ...size, bodyHeight, pageSize: bodyHeight - 1 };
}

/** How far the current view scrolls: its line count beyond the body's height. */
function scrollMax(state: State, layout: Layout): number {
  let lines = scrollingLines(state, layout.columns)?.length ?? 0;
  const radius = state.view === 'roles' && state.report ? state.report.blastRadius[state.roleCursor] : undefined;
  if (radius) lines = roleLines(radius, layout.columns - roleListWidth(state.report!) - 2).length;
  return Math.max(0, lines - layout.bodyHeight);
}

function describeError(error: unknown): string {
  if (error instanceof UserError) return redact(error.hint ? `${error.message} (${error.hint})` : error.message);
  return `internal error: ${redact(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error))}`;
}

export function useReview(props: ReviewProps) {
  const { exit } = useApp();
  const [state, react] = useReducer(reducer, Date.now(), initialState);
  // Keys can arrive faster than React renders (typing, pasting, key repeat): each key must see the
  // state left by the previous one, so the latest state is also kept here, through the same reducer.
  const latest = useRef(state);
  const dispatch = (action: Action) => {
    latest.current = reducer(latest.current, action);
    react(action);
  };
  const layout = useLayout();
  const [now, setNow] = useState(Date.now());
  const show = (path: string) => relative(props.cwd, path) || path;

  useEffect(() => {
    let live = true;
    props
      .audit((stage) => live && dispatch({ type: 'stage', name: stage, at: Date.now() }))
      .then((report) => live && dispatch({ type: 'run-finished', report, at: Date.now() }))
      .catch((error: unknown) => live && dispatch({ type: 'run-failed', error: describeError(error), at: Date.now() }));
    return () => {
      live = false;
    };
  }, [state.run.id]);

  // Elapsed times tick only while an audit runs.
  useEffect(() => {
    if (state.run.status !== 'running') return;
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [state.run.status, state.run.id]);

  // The one exit point.
  useEffect(() => {
    if (!state.quit) return;
    props.onQuit?.(latest.current);
    exit();
  }, [state.quit]);

  const attempt = (work: () => string) => {
    try {
      dispatch({ type: 'message', text: work(), tone: 'info' });
    } catch (error) {
      dispatch({ type: 'message', text: describeError(error), tone: 'error' });
    }
  };

  const onKey = (input: string, key: Key) => {
    const state = latest.current;
    const command = commandFor(state, input, key, { ...layout, scrollMax: scrollMax(state, layout) });
    switch (command.kind) {
      case 'none':
        return;
      case 'action':
        dispatch(command.action);
        return;
      case 'rerun':
        dispatch({ type: 'run-started', at: Date.now() });
        return;
      case 'export':
        attempt(() => `wrote ${writeReports(state.report!, props.reportsDir).map(show).join(', ')}`);
        return;
      case 'ask-fixes': {
        const fixes = fixesToWrite(state);
        if (fixes.length === 0) {
          dispatch({ type: 'message', text: 'no fix SQL to write: mark findings that have one with space', tone: 'error' });
          return;
        }
        const path = fixesPath(props.fixesDir, new Date());
        dispatch({ type: 'open-dialog', dialog: { kind: 'confirm-fixes', fingerprints: fixes.map((f) => f.fingerprint), path: show(path) } });
        return;
      }
      case 'write-fixes': {
        const fixes = fixesToWrite(state);
        try {
          const categories = new Map(state.report?.checks.map((c) => [c.id, c.category]) ?? []);
          const written = writeFixes(fixesPath(props.fixesDir, new Date()), fixes, new Date(), (id) => categories.get(id));
          dispatch({ type: 'fixes-written', message: `wrote ${fixes.length} fix${fixes.length === 1 ? '' : 'es'} to ${written.map(show).join(' and ')}` });
        } catch (error) {
          dispatch({ type: 'message', text: describeError(error), tone: 'error' });
        }
        return;
      }
    }
  };
  // While a text input is open it owns the keyboard (Enter submits it); only Esc reaches the review.
  const typing = state.dialog?.kind === 'search' || state.dialog?.kind === 'accept';
  useInput(onKey, { isActive: !typing });
  useInput((_input, key) => key.escape && dispatch({ type: 'close-dialog' }), { isActive: typing });

  const onAcceptSubmit = (reason: string) => {
    const dialog = latest.current.dialog;
    if (dialog?.kind !== 'accept') return;
    try {
      const entry = appendIgnore(props.ignorePath, dialog.fingerprint, reason, props.env);
      dispatch({ type: 'accepted', fingerprint: dialog.fingerprint, reason: entry.reason, message: `accepted ${dialog.fingerprint} in ${show(props.ignorePath)}` });
    } catch (error) {
      dispatch({ type: 'message', text: describeError(error), tone: 'error' });
    }
  };
  // @inkjs/ui's TextInput calls onChange from an effect that depends on it: a new function on every
  // render would call it again after each render, forever. dispatch only touches a ref and React's own.
  const onSearchChange = useCallback((text: string) => {
    if (latest.current.filters.text !== text) dispatch({ type: 'set-search', text });
  }, []);
  const onSearchSubmit = () => dispatch({ type: 'close-dialog' });

  return { state, layout, now, onAcceptSubmit, onSearchChange, onSearchSubmit };
}

export const defaultPaths = (cwd: string) => ({ ignorePath: join(cwd, 'supaudit.ignore.json'), reportsDir: join(cwd, 'reports') });
