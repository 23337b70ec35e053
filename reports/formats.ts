/**
 * The output format names, apart from the reporters themselves: the CLI lists and validates them
 * (for --help and argument errors) without loading any reporter.
 */
export const FORMAT_NAMES = ['text', 'json', 'md', 'html', 'sarif', 'junit', 'github', 'comment'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export function isFormat(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}
