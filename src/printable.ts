/**
 * Text from events, plans, config and destinations' answers is hostile when printed to a terminal:
 * an ESC or C1 byte in an event name can retitle or clear the terminal, move the cursor to forge
 * lines, or write to the clipboard (OSC 52), and bidi overrides can make text read as something
 * else. Every human-readable output shows such characters as visible escapes instead; `--json`
 * output stays exact (JSON.stringify escapes C0 controls itself).
 */

// C0 controls, DEL, C1 controls; line and paragraph separators; bidi embeddings, overrides and isolates.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const unsafeButLineBreaks = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const named: Readonly<Record<string, string>> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e'}

function escapeChar(char: string): string {
  const code = char.charCodeAt(0)
  return named[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/** A value from data, for one line of human output: every control character made visible. */
export function printable(text: string): string {
  return text.replace(unsafe, escapeChar)
}

/** Our own multi-line messages that quote data (errors, log lines): newlines and tabs kept, other controls made visible. */
export function printableLines(text: string): string {
  return text.replace(unsafeButLineBreaks, escapeChar)
}
