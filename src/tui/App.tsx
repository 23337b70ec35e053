import { Box } from 'ink';
import { FindingsView, Header, LinesView, ProgressView, RolesView, StatusLine } from './components.tsx';
import { scrollingLines } from './lines.ts';
import { useReview, type ReviewProps } from './use-review.ts';

/** The interactive review: header, the current view, one status line. State lives in `useReview`. */
export function App(props: ReviewProps) {
  const { state, layout, now, onAcceptSubmit, onSearchChange, onSearchSubmit } = useReview(props);
  const { columns: width, bodyHeight: height } = layout;
  const { color } = props;
  const report = state.report;
  let body;
  const scrolling = scrollingLines(state, width);
  if (scrolling) {
    body = <LinesView lines={scrolling} offset={state.detailScroll} height={height} color={color} />;
  } else if (state.view === 'progress' || !report) {
    body = <ProgressView state={state} now={now} height={height} width={width} color={color} />;
  } else if (state.view === 'findings') {
    body = <FindingsView state={state} height={height} width={width} color={color} />;
  } else {
    body = <RolesView report={report} state={state} height={height} width={width} color={color} />;
  }
  return (
    <Box flexDirection="column" width={width}>
      <Header state={state} width={width} color={color} />
      <Box height={height} flexDirection="column" overflow="hidden">
        {body}
      </Box>
      <StatusLine state={state} width={width} color={color} onAcceptSubmit={onAcceptSubmit} onSearchChange={onSearchChange} onSearchSubmit={onSearchSubmit} />
    </Box>
  );
}
