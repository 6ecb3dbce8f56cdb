// The single edit that turns one text into another (common prefix and suffix kept), in the form
// tree-sitter's Tree.edit wants, so re-parsing after a change reuses the unchanged subtrees.
// Offsets and columns are UTF-16 code units, as everywhere in the Node binding.
//
// Files can be megabytes long and an edit a few characters, so the common parts are found by
// comparing blocks (string comparison runs natively) before single characters, and positions
// are counted from the previous one rather than from the start of the file.

export interface TextEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: { row: number; column: number };
  oldEndPosition: { row: number; column: number };
  newEndPosition: { row: number; column: number };
}

const FIRST_BLOCK = 256;

/**
 * `near(offset)`: a known position at or before `offset` of the old text (its index and 0-based
 * row), so that rows are counted from there rather than from the start of a large file.
 */
export function editBetween(oldText: string, newText: string, near?: (offset: number) => { index: number; row: number } | undefined): TextEdit {
  const max = Math.min(oldText.length, newText.length);
  // Equal blocks double in size, a differing one halves: about log(n) comparisons, each native.
  let start = 0;
  for (let block = FIRST_BLOCK; block >= 1; ) {
    if (start + block <= max && oldText.slice(start, start + block) === newText.slice(start, start + block)) {
      start += block;
      block *= 2;
    } else block >>= 1;
  }
  let oldEnd = oldText.length;
  let newEnd = newText.length;
  for (let block = FIRST_BLOCK; block >= 1; ) {
    if (oldEnd - block >= start && newEnd - block >= start && oldText.slice(oldEnd - block, oldEnd) === newText.slice(newEnd - block, newEnd)) {
      oldEnd -= block;
      newEnd -= block;
      block *= 2;
    } else block >>= 1;
  }
  const known = near?.(start);
  const startPosition = known && known.index <= start ? pointAt(oldText, start, { row: known.row }, known.index === 0 ? 0 : oldText.lastIndexOf('\n', known.index - 1) + 1) : pointAt(oldText, start, { row: 0 }, 0);
  const lineStart = start - startPosition.column;
  return {
    startIndex: start,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition,
    // [lineStart, start) holds no line break: the ends' lines are counted from the start on.
    oldEndPosition: pointAt(oldText, oldEnd, startPosition, lineStart, start),
    newEndPosition: pointAt(newText, newEnd, startPosition, lineStart, start),
  };
}

/**
 * `edit` (between `oldText` and `newText`) widened to start at `start` and end at `oldEnd` of
 * the old text (neither inside it), for texts equal outside the wider span too; positions are
 * counted from the edit's own.
 */
export function widenEdit(oldText: string, newText: string, edit: TextEdit, start: number, oldEnd: number): TextEdit {
  if (start >= edit.startIndex && oldEnd <= edit.oldEndIndex) return edit;
  const delta = edit.newEndIndex - edit.oldEndIndex;
  let { startPosition, oldEndPosition, newEndPosition } = edit;
  if (start < edit.startIndex) {
    let row = startPosition.row;
    for (let i = oldText.indexOf('\n', start); i >= 0 && i < edit.startIndex; i = oldText.indexOf('\n', i + 1)) row--;
    startPosition = { row, column: start === 0 ? 0 : start - (oldText.lastIndexOf('\n', start - 1) + 1) };
  } else start = edit.startIndex;
  if (oldEnd > edit.oldEndIndex) {
    const lineStart = edit.oldEndIndex - oldEndPosition.column;
    oldEndPosition = pointAt(oldText, oldEnd, oldEndPosition, lineStart);
    newEndPosition = pointAt(newText, oldEnd + delta, newEndPosition, edit.newEndIndex - newEndPosition.column);
  } else oldEnd = edit.oldEndIndex;
  return { startIndex: start, oldEndIndex: oldEnd, newEndIndex: oldEnd + delta, startPosition, oldEndPosition, newEndPosition };
}

/** Lines added by an edit (negative: removed). */
export function rowDelta(edit: TextEdit): number {
  return edit.newEndPosition.row - edit.oldEndPosition.row;
}

/**
 * The position of `offset`, counting lines from `from` (a position at or before it whose line
 * starts at `lineStart`). `clear`: [lineStart, clear) is known to hold no line break.
 */
function pointAt(text: string, offset: number, from: { row: number }, lineStart: number, clear = lineStart): { row: number; column: number } {
  let row = from.row;
  // Searched within [clear, offset) only: a search beyond could run the length of a very long line.
  const within = text.slice(clear, offset).lastIndexOf('\n');
  const last = within < 0 ? -1 : clear + within;
  if (last >= 0) {
    for (let i = text.indexOf('\n', lineStart); i >= 0 && i <= last; i = text.indexOf('\n', i + 1)) row++;
    lineStart = last + 1;
  }
  return { row, column: offset - lineStart };
}
