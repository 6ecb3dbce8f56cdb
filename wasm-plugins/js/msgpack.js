// Plain msgpack for a component: QuickJS has no TextEncoder, no Buffer and no npm packages, so
// this is the whole codec. Maps decode to objects, 64-bit integers to numbers.

export function encode(value) {
  const out = new Writer();
  write(out, value);
  return out.bytes();
}

export function decode(bytes) {
  if (bytes.length === 0) return null;
  const r = { b: bytes, at: 0 };
  const value = read(r);
  if (r.at !== bytes.length) throw new Error(`msgpack: ${bytes.length - r.at} bytes after the value`);
  return value;
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.n = 0;
  }
  room(k) {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
  u8(v) {
    this.room(1);
    this.buf[this.n++] = v;
  }
  u16(v) {
    this.u8(v >>> 8);
    this.u8(v & 0xff);
  }
  u32(v) {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  raw(b) {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  bytes() {
    return this.buf.slice(0, this.n);
  }
}

function write(w, v) {
  if (v === null || v === undefined) w.u8(0xc0);
  else if (v === false) w.u8(0xc2);
  else if (v === true) w.u8(0xc3);
  else if (typeof v === 'number') writeNumber(w, v);
  else if (typeof v === 'string') writeString(w, v);
  else if (v instanceof Uint8Array) {
    if (v.length < 256) w.u8(0xc4), w.u8(v.length);
    else if (v.length < 65536) w.u8(0xc5), w.u16(v.length);
    else w.u8(0xc6), w.u32(v.length);
    w.raw(v);
  } else if (Array.isArray(v)) {
    header(w, v.length, 0x90, 0xdc, 0xdd);
    for (const x of v) write(w, x);
  } else if (typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    header(w, keys.length, 0x80, 0xde, 0xdf);
    for (const k of keys) {
      writeString(w, k);
      write(w, v[k]);
    }
  } else throw new Error(`msgpack: cannot encode a ${typeof v}`);
}

function header(w, n, fix, h16, h32) {
  if (n < 16) w.u8(fix | n);
  else if (n < 65536) w.u8(h16), w.u16(n);
  else w.u8(h32), w.u32(n);
}

function writeNumber(w, v) {
  if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
    if (v < 128) w.u8(v);
    else if (v < 256) w.u8(0xcc), w.u8(v);
    else if (v < 65536) w.u8(0xcd), w.u16(v);
    else w.u8(0xce), w.u32(v);
  } else if (Number.isInteger(v) && v < 0 && v >= -(2 ** 31)) {
    if (v >= -32) w.u8(v & 0xff);
    else w.u8(0xd2), w.u32(v >>> 0);
  } else {
    const f = new DataView(new ArrayBuffer(8));
    f.setFloat64(0, v);
    w.u8(0xcb);
    w.raw(new Uint8Array(f.buffer));
  }
}

function writeString(w, s) {
  const b = utf8(s);
  if (b.length < 32) w.u8(0xa0 | b.length);
  else if (b.length < 256) w.u8(0xd9), w.u8(b.length);
  else if (b.length < 65536) w.u8(0xda), w.u16(b.length);
  else w.u8(0xdb), w.u32(b.length);
  w.raw(b);
}

export function utf8(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function fromUtf8(b, start, end) {
  let s = '';
  for (let i = start; i < end; ) {
    const c = b[i++];
    let cp;
    if (c < 0x80) cp = c;
    else if (c < 0xe0) cp = ((c & 31) << 6) | (b[i++] & 63);
    else if (c < 0xf0) cp = ((c & 15) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
    else cp = ((c & 7) << 18) | ((b[i++] & 63) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
    s += String.fromCodePoint(cp);
  }
  return s;
}

function need(r, k) {
  if (r.at + k > r.b.length) throw new Error('msgpack: truncated');
}

function u(r, k) {
  need(r, k);
  let v = 0;
  for (let i = 0; i < k; i++) v = v * 256 + r.b[r.at++];
  return v;
}

function s(r, k) {
  need(r, k);
  const v = u(r, k);
  return k === 1 ? (v << 24) >> 24 : k === 2 ? (v << 16) >> 16 : k === 4 ? v | 0 : v >= 2 ** 63 ? v - 2 ** 64 : v;
}

function str(r, n) {
  need(r, n);
  const v = fromUtf8(r.b, r.at, r.at + n);
  r.at += n;
  return v;
}

function bin(r, n) {
  need(r, n);
  const v = r.b.slice(r.at, r.at + n);
  r.at += n;
  return v;
}

function arr(r, n) {
  const a = [];
  for (let i = 0; i < n; i++) a.push(read(r));
  return a;
}

function map(r, n) {
  const o = {};
  for (let i = 0; i < n; i++) {
    const k = read(r);
    o[String(k)] = read(r);
  }
  return o;
}

function read(r) {
  need(r, 1);
  const t = r.b[r.at++];
  if (t < 0x80) return t;
  if (t < 0x90) return map(r, t & 15);
  if (t < 0xa0) return arr(r, t & 15);
  if (t < 0xc0) return str(r, t & 31);
  if (t >= 0xe0) return t - 256;
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return bin(r, u(r, 1));
    case 0xc5:
      return bin(r, u(r, 2));
    case 0xc6:
      return bin(r, u(r, 4));
    case 0xca: {
      need(r, 4);
      const v = new DataView(r.b.buffer, r.b.byteOffset + r.at, 4).getFloat32(0);
      r.at += 4;
      return v;
    }
    case 0xcb: {
      need(r, 8);
      const v = new DataView(r.b.buffer, r.b.byteOffset + r.at, 8).getFloat64(0);
      r.at += 8;
      return v;
    }
    case 0xcc:
      return u(r, 1);
    case 0xcd:
      return u(r, 2);
    case 0xce:
      return u(r, 4);
    case 0xcf:
      return u(r, 8);
    case 0xd0:
      return s(r, 1);
    case 0xd1:
      return s(r, 2);
    case 0xd2:
      return s(r, 4);
    case 0xd3:
      return s(r, 8);
    case 0xd9:
      return str(r, u(r, 1));
    case 0xda:
      return str(r, u(r, 2));
    case 0xdb:
      return str(r, u(r, 4));
    case 0xdc:
      return arr(r, u(r, 2));
    case 0xdd:
      return arr(r, u(r, 4));
    case 0xde:
      return map(r, u(r, 2));
    case 0xdf:
      return map(r, u(r, 4));
    default:
      throw new Error(`msgpack: type 0x${t.toString(16)} is not supported`);
  }
}
