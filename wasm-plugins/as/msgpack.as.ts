// msgpack for AssemblyScript plugins. The reader gives values the shapes wasm-plugins/js/msgpack.js
// gives a JS plugin (maps with string keys, every number an f64), so that arguments are checked
// as a JS plugin checks them; the writer writes numbers as that codec does. AssemblyScript has no
// exceptions: a reader that fails says why in `failure` and returns nil.

export const enum Kind { Nil, Bool, Num, Str, Bin, Arr, Map }

export class Value {
  kind: Kind;
  /** A number's value; 1 or 0 for a boolean. */
  num: f64 = 0;
  str: string = '';
  /** An array's items, a map's values; the bytes of a bin as numbers. */
  items: Value[] = [];
  /** A map's keys, as JS's String() makes them. */
  keys: string[] = [];

  constructor(kind: Kind) {
    this.kind = kind;
  }

  /** `value.key` in JS: the last value under `key` of a map; null (undefined) when absent or not a map. */
  get(key: string): Value | null {
    if (this.kind != Kind.Map) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] == key) return this.items[i];
    return null;
  }

  /** `typeof value === 'object'` for a value that is not null: a map, an array, a bin. */
  get isObject(): bool {
    return this.kind == Kind.Map || this.kind == Kind.Arr || this.kind == Kind.Bin;
  }

  /** `Number.isInteger(value)`. */
  get isInteger(): bool {
    return this.kind == Kind.Num && isFinite(this.num) && Math.floor(this.num) == this.num;
  }
}

export const NIL = new Value(Kind.Nil);

/** Why the last `decode` failed (a JS Error's message), or null. */
export let failure: string | null = null;

/** The value of `len` bytes at `ptr`: nil for none, nil with `failure` set for bad msgpack. */
export function decode(ptr: usize, len: usize): Value {
  failure = null;
  if (len == 0) return NIL;
  const r = new Reader(ptr, ptr + len);
  const v = r.value();
  if (failure != null) return NIL;
  if (r.at != r.end) {
    failure = `msgpack: ${r.end - r.at} bytes after the value`;
    return NIL;
  }
  return v;
}

class Reader {
  constructor(public at: usize, public end: usize) {}

  need(k: usize): bool {
    if (this.at + k > this.end) {
      if (failure == null) failure = 'msgpack: truncated';
      return false;
    }
    return true;
  }

  u(k: i32): f64 {
    if (!this.need(<usize>k)) return 0;
    let v: f64 = 0;
    for (let i = 0; i < k; i++) v = v * 256 + <f64>load<u8>(this.at++);
    return v;
  }

  s(k: i32): f64 {
    const v = this.u(k);
    if (k == 1) return <f64>(<i8><u8>v);
    if (k == 2) return <f64>(<i16><u16>v);
    if (k == 4) return <f64>(<i32><u32>v);
    return v >= 9223372036854775808.0 ? v - 18446744073709551616.0 : v;
  }

  num(v: f64): Value {
    const n = new Value(Kind.Num);
    n.num = v;
    return n;
  }

  str(n: usize): Value {
    if (!this.need(n)) return NIL;
    const v = new Value(Kind.Str);
    v.str = String.UTF8.decodeUnsafe(this.at, n);
    this.at += n;
    return v;
  }

  bin(n: usize): Value {
    if (!this.need(n)) return NIL;
    const v = new Value(Kind.Bin);
    for (let i: usize = 0; i < n; i++) v.items.push(this.num(<f64>load<u8>(this.at + i)));
    this.at += n;
    return v;
  }

  arr(n: usize): Value {
    const v = new Value(Kind.Arr);
    for (let i: usize = 0; i < n && failure == null; i++) v.items.push(this.value());
    return v;
  }

  map(n: usize): Value {
    const v = new Value(Kind.Map);
    for (let i: usize = 0; i < n && failure == null; i++) {
      const k = this.value();
      v.keys.push(keyOf(k));
      v.items.push(this.value());
    }
    return v;
  }

  value(): Value {
    if (!this.need(1)) return NIL;
    const t = <u32>load<u8>(this.at++);
    if (t < 0x80) return this.num(<f64>t);
    if (t < 0x90) return this.map(t & 15);
    if (t < 0xa0) return this.arr(t & 15);
    if (t < 0xc0) return this.str(t & 31);
    if (t >= 0xe0) return this.num(<f64>t - 256);
    switch (t) {
      case 0xc0:
        return NIL;
      case 0xc2:
      case 0xc3: {
        const b = new Value(Kind.Bool);
        b.num = t == 0xc3 ? 1 : 0;
        return b;
      }
      case 0xc4:
        return this.bin(<usize>this.u(1));
      case 0xc5:
        return this.bin(<usize>this.u(2));
      case 0xc6:
        return this.bin(<usize>this.u(4));
      case 0xca: {
        if (!this.need(4)) return NIL;
        const v = reinterpret<f32>(bswap<u32>(load<u32>(this.at)));
        this.at += 4;
        return this.num(<f64>v);
      }
      case 0xcb: {
        if (!this.need(8)) return NIL;
        const v = reinterpret<f64>(bswap<u64>(load<u64>(this.at)));
        this.at += 8;
        return this.num(v);
      }
      case 0xcc:
        return this.num(this.u(1));
      case 0xcd:
        return this.num(this.u(2));
      case 0xce:
        return this.num(this.u(4));
      case 0xcf:
        return this.num(this.u(8));
      case 0xd0:
        return this.num(this.s(1));
      case 0xd1:
        return this.num(this.s(2));
      case 0xd2:
        return this.num(this.s(4));
      case 0xd3:
        return this.num(this.s(8));
      case 0xd9:
        return this.str(<usize>this.u(1));
      case 0xda:
        return this.str(<usize>this.u(2));
      case 0xdb:
        return this.str(<usize>this.u(4));
      case 0xdc:
        return this.arr(<usize>this.u(2));
      case 0xdd:
        return this.arr(<usize>this.u(4));
      case 0xde:
        return this.map(<usize>this.u(2));
      case 0xdf:
        return this.map(<usize>this.u(4));
    }
    if (failure == null) failure = `msgpack: type 0x${t.toString(16)} is not supported`;
    return NIL;
  }
}

/** `String(key)` in JS. */
function keyOf(v: Value): string {
  switch (v.kind) {
    case Kind.Nil:
      return 'null';
    case Kind.Bool:
      return v.num != 0 ? 'true' : 'false';
    case Kind.Num:
      return numberString(v.num);
    case Kind.Str:
      return v.str;
    case Kind.Map:
      return '[object Object]';
  }
  // arrays and bins: their items joined by commas
  const parts: string[] = [];
  for (let i = 0; i < v.items.length; i++) parts.push(v.items[i].kind == Kind.Nil ? '' : keyOf(v.items[i]));
  return parts.join(',');
}

function numberString(n: f64): string {
  if (isFinite(n) && Math.floor(n) == n && Math.abs(n) < 1e21) return n == 0 ? '0' : (<i64>n).toString();
  if (isNaN(n)) return 'NaN';
  if (!isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return n.toString();
}

/** A msgpack writer into a buffer that grows. */
export class Writer {
  buf: Uint8Array = new Uint8Array(256);
  n: i32 = 0;

  room(k: i32): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    memory.copy(b.dataStart, this.buf.dataStart, <usize>this.n);
    this.buf = b;
  }

  u8(v: u32): void {
    this.room(1);
    unchecked((this.buf[this.n++] = <u8>v));
  }

  u16(v: u32): void {
    this.u8((v >>> 8) & 0xff);
    this.u8(v & 0xff);
  }

  u32(v: u32): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  nil(): void {
    this.u8(0xc0);
  }

  /** A number as the JS codec writes it: an unsigned or small negative integer, else a float64. */
  num(v: f64): void {
    const integer = isFinite(v) && Math.floor(v) == v;
    if (integer && v >= 0 && v < 4294967296.0) {
      const u = <u32>v;
      if (u < 128) this.u8(u);
      else if (u < 256) this.u8(0xcc), this.u8(u);
      else if (u < 65536) this.u8(0xcd), this.u16(u);
      else this.u8(0xce), this.u32(u);
    } else if (integer && v < 0 && v >= -2147483648.0) {
      const s = <i32>v;
      if (s >= -32) this.u8(<u32>s & 0xff);
      else this.u8(0xd2), this.u32(<u32>s);
    } else {
      this.u8(0xcb);
      const bits = reinterpret<u64>(v);
      this.u32(<u32>(bits >>> 32));
      this.u32(<u32>bits);
    }
  }

  header(n: i32, fix: u32, h16: u32, h32: u32): void {
    if (n < 16) this.u8(fix | <u32>n);
    else if (n < 65536) this.u8(h16), this.u16(<u32>n);
    else this.u8(h32), this.u32(<u32>n);
  }

  array(n: i32): void {
    this.header(n, 0x90, 0xdc, 0xdd);
  }

  map(n: i32): void {
    this.header(n, 0x80, 0xde, 0xdf);
  }

  /** A string as UTF-8, a lone surrogate as its three bytes (as the JS codec does). */
  str(s: string): void {
    const len = utf8Length(s);
    if (len < 32) this.u8(0xa0 | <u32>len);
    else if (len < 256) this.u8(0xd9), this.u8(<u32>len);
    else if (len < 65536) this.u8(0xda), this.u16(<u32>len);
    else this.u8(0xdb), this.u32(<u32>len);
    this.room(len);
    const n = s.length;
    for (let i = 0; i < n; i++) {
      let c = <u32>s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = <u32>s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c < 0x80) this.put(c);
      else if (c < 0x800) this.put(0xc0 | (c >> 6)), this.put(0x80 | (c & 63));
      else if (c < 0x10000) this.put(0xe0 | (c >> 12)), this.put(0x80 | ((c >> 6) & 63)), this.put(0x80 | (c & 63));
      else this.put(0xf0 | (c >> 18)), this.put(0x80 | ((c >> 12) & 63)), this.put(0x80 | ((c >> 6) & 63)), this.put(0x80 | (c & 63));
    }
  }

  /** A byte there is room for. */
  @inline put(b: u32): void {
    unchecked((this.buf[this.n++] = <u8>b));
  }
}

function utf8Length(s: string): i32 {
  const n = s.length;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const c = <u32>s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && <u32>s.charCodeAt(i + 1) >= 0xdc00 && <u32>s.charCodeAt(i + 1) < 0xe000) {
      len += 4;
      i++;
    } else len += 3;
  }
  return len;
}
