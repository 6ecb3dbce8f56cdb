// Reading just enough of a type's text to follow it: the dotted name of `Foo<T>`, and the
// parameter types of a function type `(a: A, b: B) => R`.

const NAMED = /^([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*(?:<[^]*>)?$/;

/**
 * `Foo`, `ns.Foo<T>`, `Foo | undefined` -> the dotted name; anything else undefined. Of a union
 * of named types the first is taken, as the compiler resolves a member access on a union to
 * the first member's declaration.
 */
export function typeNameOf(text: string): string | undefined {
  const parts = splitTopLevel(text.trim(), '|').map((p) => p.trim()).filter((p) => p !== '' && p !== 'undefined' && p !== 'null');
  const m = parts.length ? NAMED.exec(parts[0]!) : null;
  return m ? m[1]!.replace(/\s+/g, '') : undefined;
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

/** Index of the bracket closing the one at `open`, counting all bracket kinds; -1 if none. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && !(c === '>' && text[i - 1] === '=')) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
