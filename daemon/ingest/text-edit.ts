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

const BLOCK = 2048;

export function editBetween(oldText: string, newText: string): TextEdit {
  const max = Math.min(oldText.length, newText.length);
  let start = 0;
  while (start + BLOCK <= max && oldText.slice(start, start + BLOCK) === newText.slice(start, start + BLOCK)) start += BLOCK;
  while (start < max && oldText.charCodeAt(start) === newText.charCodeAt(start)) start++;
  let oldEnd = oldText.length;
  let newEnd = newText.length;
  while (oldEnd - BLOCK >= start && newEnd - BLOCK >= start && oldText.slice(oldEnd - BLOCK, oldEnd) === newText.slice(newEnd - BLOCK, newEnd)) {
    oldEnd -= BLOCK;
    newEnd -= BLOCK;
  }
  while (oldEnd > start && newEnd > start && oldText.charCodeAt(oldEnd - 1) === newText.charCodeAt(newEnd - 1)) {
    oldEnd--;
    newEnd--;
  }
  const startPosition = pointAt(oldText, start, { row: 0 }, 0);
  const lineStart = start - startPosition.column;
  return {
    startIndex: start,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition,
    oldEndPosition: pointAt(oldText, oldEnd, startPosition, lineStart),
    newEndPosition: pointAt(newText, newEnd, startPosition, lineStart),
  };
}

/** Lines added by an edit (negative: removed). */
export function rowDelta(edit: TextEdit): number {
  return edit.newEndPosition.row - edit.oldEndPosition.row;
}

/** The position of `offset`, counting lines from `from` (a position at or before it whose line starts at `lineStart`). */
function pointAt(text: string, offset: number, from: { row: number }, lineStart: number): { row: number; column: number } {
  let row = from.row;
  for (let i = text.indexOf('\n', lineStart); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}
