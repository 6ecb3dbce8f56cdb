// Reading just enough of a type's text to follow it: the dotted name of `Foo<T>`, and the
// parameter types of a function type `(a: A, b: B) => R`.
import { isSpace } from '../util/chars.ts';

const DOTTED_AT = /[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*/y;

/**
 * `Foo`, `ns.Foo<T>`, `Foo | undefined` -> the dotted name; anything else undefined. Of a union
 * of named types the first is taken, as the compiler resolves a member access on a union to
 * the first member's declaration.
 */
export function typeNameOf(text: string): string | undefined {
  return typeNameIn(text, 0, text.length);
}

/**
 * `typeNameOf` of `text.slice(start, end)` (after a leading `:` when `annotation`), read in place:
 * declared types can be many kilobytes long, and only their first union member matters.
 */
export function typeNameIn(text: string, start: number, end: number, annotation = false): string | undefined {
  let s = skipSpace(text, start, end);
  if (annotation && text.charCodeAt(s) === 58 /* : */) s = skipSpace(text, s + 1, end);
  let e = end;
  while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
  let depth = 0;
  let partStart = s;
  for (let i = s; i <= e; i++) {
    if (i === partStart) {
      // A part that does not start with a name is no name (nor `undefined` or `null`): done.
      const first = skipSpace(text, i, e);
      if (first < e) {
        const c = text.charCodeAt(first);
        if (!isNameStart(c) && c !== 124 /* | */) return undefined;
      }
    }
    const c = i < e ? text.charCodeAt(i) : 124;
    if (c === 40 || c === 91 || c === 123 || c === 60) depth++; // ( [ { <
    else if (c === 41 || c === 93 || c === 125 || (c === 62 && !(i > s && text.charCodeAt(i - 1) === 61))) depth--; // ) ] } > (not =>)
    else if (c === 124 && (depth === 0 || i === e)) {
      const ps = skipSpace(text, partStart, i);
      let pe = i;
      while (pe > ps && isSpace(text.charCodeAt(pe - 1))) pe--;
      partStart = i + 1;
      if (pe === ps || isWord(text, ps, pe, 'undefined') || isWord(text, ps, pe, 'null')) continue;
      return namedType(text, ps, pe);
    }
  }
  return undefined;
}

/**
 * The dotted name of `Name` or `Name<...>` spanning exactly [start, end), else undefined. An
 * array of one (`Name[]`, `readonly Name[]`, `Array<Name>`, `Set<Name>`...) is `Name[]`: no
 * member of the array is Name's, and `for (const x of ...)` takes the element (symbols.ts).
 */
function namedType(text: string, start: number, end: number): string | undefined {
  // `readonly` before an array type
  if (text.startsWith('readonly', start) && start + 8 < end && isSpace(text.charCodeAt(start + 8))) start = skipSpace(text, start + 8, end);
  DOTTED_AT.lastIndex = start;
  let m = DOTTED_AT.exec(text);
  // A name running on past the part (`Foo` then `\n.bar` after the type): read the part alone.
  if (m && m.index + m[0].length > end) {
    DOTTED_AT.lastIndex = start;
    m = DOTTED_AT.exec(text.slice(0, end));
  }
  if (!m) return undefined;
  const name = m[0].replace(/\s+/g, '');
  let i = skipSpace(text, m.index + m[0].length, end);
  let args = -1;
  let argsEnd = -1;
  if (i < end && text.charCodeAt(i) === 60 /* < */) {
    argsEnd = closingBracket(text, i, end);
    if (argsEnd < 0) return undefined;
    args = i + 1;
    i = skipSpace(text, argsEnd + 1, end);
  }
  // `this["Rebuild"]`: the type of the receiver's property (resolve/symbols.ts's `returnedBy`).
  if (name === 'this' && args < 0 && i < end && text.charCodeAt(i) === 91 /* [ */) return thisProperty(text, i, end);
  let arrays = 0;
  while (i < end && text.charCodeAt(i) === 91 /* [ */) {
    const close = skipSpace(text, i + 1, end);
    if (close >= end || text.charCodeAt(close) !== 93 /* ] */) return undefined;
    arrays++;
    i = skipSpace(text, close + 1, end);
  }
  if (i !== end) return undefined;
  let base: string | undefined = name;
  // `Partial<Observer<T>>`: the members, by name and declaration, of the type it wraps.
  if (args >= 0 && SAME_MEMBERS.has(name)) base = typeNameIn(text, args, argsEnd);
  else if (args >= 0 && ELEMENTS_OF.has(name)) {
    const element = typeNameIn(text, args, argsEnd);
    base = element === undefined ? undefined : `${element}[]`;
  }
  return base === undefined ? undefined : base + '[]'.repeat(arrays);
}

const THIS_PROPERTY = /\[\s*(["'])([A-Za-z_$][\w$]*)\1\s*\]/y;

/** `["Name"]` from `i` to `end`, after `this`: `this["Name"]`; anything else undefined. */
function thisProperty(text: string, i: number, end: number): string | undefined {
  THIS_PROPERTY.lastIndex = i;
  const m = THIS_PROPERTY.exec(text);
  return m && skipSpace(text, i + m[0].length, end) === end ? `this["${m[2]}"]` : undefined;
}

/** The property `this["Name"]` (`thisProperty`) names; undefined for any other type text. */
export function thisPropertyName(typeName: string): string | undefined {
  return typeName.startsWith('this["') ? typeName.slice(6, -2) : undefined;
}

/**
 * Global utility types whose members are their argument's (as the compiler resolves them, to
 * the argument's declarations). A local type of one of these names would be misread: the
 * extractor does not know what a file's names refer to.
 */
const SAME_MEMBERS = new Set(['Partial', 'Required', 'Readonly', 'NonNullable']);
/** Global collections whose `for ... of` elements are their (first) type argument. */
const ELEMENTS_OF = new Set(['Array', 'ReadonlyArray', 'Set', 'ReadonlySet', 'Iterable', 'IterableIterator', 'AsyncIterable']);

function isWord(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start);
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The declared type name of parameter `index` of a function type's text, `this` excluded. */
export function functionTypeParameter(text: string, index: number): string | undefined {
  const t = text.trim();
  if (t.startsWith('<')) return functionTypeParameter(t.slice(closingBracket(t, 0) + 1), index);
  if (t.startsWith('(')) {
    const close = closingBracket(t, 0);
    if (close < 0) return undefined;
    // `(a: A) => R | void`: the union belongs to the return type.
    if (t.slice(close + 1).trim().startsWith('=>')) return parameterType(t.slice(1, close), index);
  }
  const union = splitTopLevel(t, '|').map((p) => p.trim()).filter((p) => p !== 'undefined' && p !== 'null');
  if (union.length !== 1) return undefined;
  const only = union[0]!;
  if (only.startsWith('(') && closingBracket(only, 0) === only.length - 1) return functionTypeParameter(only.slice(1, -1), index);
  return undefined;
}

function parameterType(list: string, index: number): string | undefined {
  const params = splitTopLevel(list, ',').map((p) => p.trim()).filter(Boolean).filter((p) => !/^this\s*:/.test(p));
  const p = params[index];
  if (!p || p.startsWith('...')) return undefined;
  const colon = topLevelIndex(p, ':');
  return colon < 0 ? undefined : typeNameOf(p.slice(colon + 1));
}

const OPEN = '([{<';
const CLOSE = ')]}>';

function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && !(c === '>' && text[i - 1] === '=')) depth--;
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function topLevelIndex(text: string, ch: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && !(c === '>' && text[i - 1] === '=')) depth--;
    else if (c === ch && depth === 0) return i;
  }
  return -1;
}

/** Index of the bracket closing the one at `open`, before `end`, counting all bracket kinds; -1 if none. */
function closingBracket(text: string, open: number, end = text.length): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && !(c === '>' && text[i - 1] === '=')) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
