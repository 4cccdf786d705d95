/**
 * The code that runs in every function's isolate before the user's file: the globals Segment's
 * runtime gives (fetch, crypto, Buffer, _, URL, console, cache, setTimeout, the error classes) and
 * the dispatcher the host calls once per call.
 *
 * The host's callbacks arrive as globals and are captured here in closures, then deleted, so user
 * code never holds them. Everything they receive is checked again host-side (host-api.ts): user
 * code may reach them through a bug here.
 *
 * Written as plain JavaScript text (not a TypeScript function's toString(), which build tools may
 * rewrite). No template literals inside, so the text needs no escaping.
 */
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

let cachedLibraries: string | undefined

/** lodash as `_`, and the `buffer` package (with base64-js and ieee754) behind a CommonJS shim. */
export function librariesSource(): string {
  if (cachedLibraries !== undefined) return cachedLibraries
  const read = (id: string) => readFileSync(require.resolve(id), 'utf8')
  const lodash = read('lodash/lodash.min.js')
  const modules: [string, string][] = [
    ['base64-js', read('base64-js/index.js')],
    ['ieee754', read('ieee754/index.js')],
    ['buffer', read('buffer/index.js')],
  ]
  const defs = modules
    .map(([name, source]) => JSON.stringify(name) + ': function (module, exports, require) {\n' + source + '\n}')
    .join(',\n')
  // lodash runs as a script of its own: it finds no module/exports and sets globalThis._.
  cachedLibraries =
    lodash +
    '\n;(function () {\n' +
    'const defs = {' + defs + '};\n' +
    'const cache = {};\n' +
    'function load(name) {\n' +
    '  if (cache[name]) return cache[name].exports;\n' +
    '  const module = {exports: {}}; cache[name] = module;\n' +
    '  defs[name].call(module.exports, module, module.exports, load);\n' +
    '  return module.exports;\n' +
    '}\n' +
    'Object.defineProperty(globalThis, "Buffer", {value: load("buffer").Buffer, writable: true, configurable: true, enumerable: false});\n' +
    '})();\n'
  return cachedLibraries
}

/**
 * The prelude proper. Its completion value is the internal API the host keeps references to:
 * {dispatch, resume, install}. Globals it expects (and deletes): __cdp_sync (a sync Callback for
 * crypto, URL parsing and starting async work), __cdp_name (the function's display file name).
 */
export const preludeSource = String.raw`(function () {
'use strict';
const G = globalThis;
const hostSync = G.__cdp_sync;
delete G.__cdp_sync;
const JSONparse = JSON.parse;
const JSONstringify = JSON.stringify;
const ObjectKeys = Object.keys;
const isArray = Array.isArray;
const PromiseCtor = Promise;
const BufferCtor = G.Buffer;

function define(name, value) {
  Object.defineProperty(G, name, {value: value, writable: true, configurable: true, enumerable: false});
}

// ---- calls: which call the running code belongs to --------------------------------------------
// Every entry from the host (dispatch, resume) sets current; an await of our own APIs restores it.
let current = null;
const pending = new Map();
let nextToken = 1;

function callOrThrow(what) {
  if (current === null) throw new Error(what + ' is only available while a handler runs');
  return current;
}

/** Starts host work (fetch, a timer) and returns a promise the host settles through resume(). */
function hostAsync(op, arg) {
  const call = callOrThrow(op === 'fetch' ? 'fetch()' : 'setTimeout()');
  const token = nextToken++;
  return new PromiseCtor(function (resolve) {
    pending.set(token, {resolve: resolve, call: call});
    call.tokens.push(token);
    const refused = hostSync('start', op, call.id, token, arg);
    if (refused !== undefined) {
      pending.delete(token);
      resolve({error: String(refused)});
    }
  });
}

function resume(token, value) {
  const p = pending.get(token);
  if (p === undefined) return;
  pending.delete(token);
  current = p.call;
  p.resolve(value);
}

// ---- error classes ------------------------------------------------------------------------------
function errorClass(name, base) {
  const C = {[name]: class extends base {
    constructor(message) {
      super(message === undefined ? '' : message);
      Object.defineProperty(this, 'name', {value: name, writable: true, configurable: true, enumerable: false});
    }
  }}[name];
  define(name, C);
  return C;
}
const EventNotSupported = errorClass('EventNotSupported', Error);
const InvalidEventPayload = errorClass('InvalidEventPayload', Error);
const ValidationError = errorClass('ValidationError', Error);
const RetryError = errorClass('RetryError', Error);
const DropEvent = errorClass('DropEvent', Error);
const InvalidSettingsError = errorClass('InvalidSettingsError', Error);
// A failed fetch: a TypeError as Node's fetch throws, so code that catches TypeError still works.
const FetchError = errorClass('FetchError', TypeError);

const finalClasses = [
  ['EventNotSupported', EventNotSupported],
  ['InvalidEventPayload', InvalidEventPayload],
  ['ValidationError', ValidationError],
  ['InvalidSettingsError', InvalidSettingsError],
];
const retryClasses = [['RetryError', RetryError], ['FetchError', FetchError]];

function safeString(v) {
  try { return String(v); } catch (e) { return '(a value that cannot be shown)'; }
}

/** A thrown value as {c: class, m: message, t: retryable, s: stack}, read defensively. */
function failure(e) {
  // Segment discards an event whose function threw anything but RetryError (or timed out): a
  // bug in the function fails the same way next time, so it is final here too.
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) {
    return {c: 'Error', m: safeString(e), t: false, s: ''};
  }
  let message = '', stack = '', name = '';
  try { message = typeof e.message === 'string' ? e.message : safeString(e); } catch (x) {}
  try { stack = typeof e.stack === 'string' ? e.stack : ''; } catch (x) {}
  try { name = typeof e.name === 'string' ? e.name : ''; } catch (x) {}
  for (const [n, C] of finalClasses) if (e instanceof C) return {c: n, m: message, t: false, s: stack};
  for (const [n, C] of retryClasses) if (e instanceof C) return {c: n, m: message, t: true, s: stack};
  // What V8 rejects import() with when the embedder has no module loader, as isolated-vm has not.
  if (message === 'Not supported' && name === 'Error') {
    message = 'import() is not available in functions: modules cannot be loaded (Not supported)';
  }
  return {c: name || 'Error', m: message, t: false, s: stack};
}

function isDrop(e) {
  return e instanceof DropEvent;
}

function dropReason(e) {
  let m = '';
  try { m = typeof e.message === 'string' ? e.message : ''; } catch (x) {}
  return m || 'DropEvent';
}

// ---- console ------------------------------------------------------------------------------------
const MAX_LINES = 100;
const MAX_LINE = 4096;

function formatValue(v) {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return '[Function ' + (v.name || 'anonymous') + ']';
  if (typeof v === 'symbol' || typeof v === 'bigint') return safeString(v);
  if (v instanceof Error) {
    // The user's frames only: the runtime's own (cdp:prelude) say nothing to them.
    try { return typeof v.stack === 'string' && v.stack ? v.stack.split('\n').filter(function (line) { return line.indexOf('cdp:prelude') === -1; }).join('\n') : v.name + ': ' + v.message; } catch (x) { return 'Error'; }
  }
  try {
    const t = JSONstringify(v);
    return t === undefined ? safeString(v) : t;
  } catch (x) {
    return safeString(v);
  }
}

function writeLine(level, args) {
  const call = current;
  if (call === null) return;
  if (call.lines.length >= MAX_LINES) { call.skipped++; return; }
  let text = '';
  for (let i = 0; i < args.length; i++) text += (i === 0 ? '' : ' ') + formatValue(args[i]);
  if (text.length > MAX_LINE) text = text.slice(0, MAX_LINE) + '… (' + (text.length - MAX_LINE) + ' more characters)';
  const line = {level: level, message: text};
  if (call.eventIndex !== undefined) line.eventIndex = call.eventIndex;
  call.lines.push(line);
}

const consoleObject = {};
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  consoleObject[level] = function () { writeLine(level, arguments); };
}
consoleObject.trace = consoleObject.debug;
define('console', consoleObject);

// ---- timers -------------------------------------------------------------------------------------
const timers = new Map();
let nextTimer = 1;
define('setTimeout', function setTimeout(fn, ms) {
  if (typeof fn !== 'function') throw new TypeError('setTimeout: the callback must be a function');
  const args = Array.prototype.slice.call(arguments, 2);
  const call = callOrThrow('setTimeout()');
  const id = nextTimer++;
  let delay = Number(ms);
  if (!(delay >= 1)) delay = 1;
  if (delay > 2147483647) delay = 1;
  timers.set(id, call);
  hostAsync('sleep', delay).then(function (fired) {
    if (!timers.has(id)) return;
    timers.delete(id);
    if (fired !== true) return;
    current = call;
    try { fn.apply(undefined, args); } catch (e) { writeLine('error', ['Uncaught error in a setTimeout callback:', e]); }
  });
  return id;
});
define('clearTimeout', function clearTimeout(id) {
  timers.delete(id);
});

// ---- Buffer, TextEncoder, btoa/atob ---------------------------------------------------------------
function toBytes(data, encoding) {
  if (typeof data === 'string') return BufferCtor.from(data, encoding || 'utf8');
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('expected a string, Buffer, TypedArray or ArrayBuffer');
}

function copyBytes(data) {
  const b = toBytes(data);
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

define('TextEncoder', class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(s) { return new Uint8Array(BufferCtor.from(s === undefined ? '' : String(s), 'utf8')); }
});
define('TextDecoder', class TextDecoder {
  constructor(label) {
    const l = label === undefined ? 'utf-8' : String(label).toLowerCase();
    if (l !== 'utf-8' && l !== 'utf8') throw new RangeError('TextDecoder: only utf-8 is available in functions');
  }
  get encoding() { return 'utf-8'; }
  decode(bytes) { return bytes === undefined ? '' : BufferCtor.from(toBytes(bytes)).toString('utf8'); }
});

define('btoa', function btoa(s) {
  s = String(s);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) throw new Error('InvalidCharacterError: btoa: the string has characters outside of Latin1');
  }
  return BufferCtor.from(s, 'latin1').toString('base64');
});
define('atob', function atob(s) {
  s = String(s).replace(/[\t\n\f\r ]/g, '');
  if (s.length % 4 === 0) s = s.replace(/==?$/, '');
  if (s.length % 4 === 1 || /[^A-Za-z0-9+\/]/.test(s)) throw new Error('InvalidCharacterError: atob: the string is not valid base64');
  return BufferCtor.from(s, 'base64').toString('latin1');
});

// ---- crypto (hashing on the host) -----------------------------------------------------------------
function encodeDigest(bytes, encoding) {
  const b = BufferCtor.from(bytes);
  if (encoding === undefined || encoding === 'buffer') return b;
  if (encoding === 'base64url') return b.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return b.toString(encoding);
}

class Hash {
  constructor(kind, algorithm, key) {
    this._kind = kind;
    this._algorithm = String(algorithm).toLowerCase();
    this._key = key;
    this._chunks = [];
    this._done = false;
    hostSync('crypto.check', this._algorithm);
  }
  update(data, encoding) {
    if (this._done) throw new Error('Digest already called');
    this._chunks.push(copyBytes(toBytes(data, encoding)));
    return this;
  }
  digest(encoding) {
    if (this._done) throw new Error('Digest already called');
    this._done = true;
    let size = 0;
    for (const c of this._chunks) size += c.length;
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of this._chunks) { all.set(c, at); at += c.length; }
    const out = hostSync('crypto.' + this._kind, this._algorithm, all.buffer, this._key === undefined ? undefined : this._key.buffer);
    return encodeDigest(new Uint8Array(out), encoding);
  }
}

const cryptoObject = {
  createHash: function createHash(algorithm) { return new Hash('hash', algorithm, undefined); },
  createHmac: function createHmac(algorithm, key) {
    if (key === undefined || key === null) throw new TypeError('createHmac: a key is required');
    return new Hash('hmac', algorithm, copyBytes(toBytes(key)));
  },
  randomUUID: function randomUUID() { return hostSync('crypto.uuid'); },
  randomBytes: function randomBytes(size) {
    const n = Number(size);
    if (!(n >= 0 && n <= 65536 && Math.floor(n) === n)) throw new RangeError('randomBytes: size must be an integer from 0 to 65536');
    return BufferCtor.from(new Uint8Array(hostSync('crypto.random', n)));
  },
  timingSafeEqual: function timingSafeEqual(a, b) {
    const x = toBytes(a), y = toBytes(b);
    if (x.length !== y.length) throw new RangeError('Input buffers must have the same byte length');
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  },
};
define('crypto', cryptoObject);

// ---- URL, URLSearchParams (parsed by the host's WHATWG implementation) ---------------------------
const urlFields = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
const urlState = new WeakMap();
const paramsOwner = new WeakMap();
const paramsList = new WeakMap();

function parseUrl(url, base) {
  return hostSync('url.parse', safeString(url), base === undefined ? undefined : safeString(base));
}

class URLSearchParams {
  constructor(init) {
    let list = [];
    if (init instanceof URLSearchParams) list = paramsList.get(init).map(function (p) { return [p[0], p[1]]; });
    else if (init === undefined || init === null) list = [];
    else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const p = Array.from(pair);
        if (p.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly two items');
        list.push([String(p[0]), String(p[1])]);
      }
    } else if (typeof init === 'object') {
      for (const k of ObjectKeys(init)) list.push([k, String(init[k])]);
    } else {
      list = hostSync('qs.parse', String(init));
    }
    paramsList.set(this, list);
  }
  _changed() {
    const owner = paramsOwner.get(this);
    if (owner !== undefined) {
      const s = this.toString();
      const st = urlState.get(owner);
      st.fields = hostSync('url.set', st.fields[0], 'search', s);
    }
  }
  get size() { return paramsList.get(this).length; }
  append(name, value) { paramsList.get(this).push([String(name), String(value)]); this._changed(); }
  delete(name, value) {
    name = String(name);
    const list = paramsList.get(this);
    const keep = list.filter(function (p) { return !(p[0] === name && (value === undefined || p[1] === String(value))); });
    paramsList.set(this, keep);
    this._changed();
  }
  get(name) { name = String(name); const p = paramsList.get(this).find(function (q) { return q[0] === name; }); return p === undefined ? null : p[1]; }
  getAll(name) { name = String(name); return paramsList.get(this).filter(function (q) { return q[0] === name; }).map(function (q) { return q[1]; }); }
  has(name, value) { name = String(name); return paramsList.get(this).some(function (q) { return q[0] === name && (value === undefined || q[1] === String(value)); }); }
  set(name, value) {
    name = String(name); value = String(value);
    const list = paramsList.get(this);
    const out = [];
    let done = false;
    for (const p of list) {
      if (p[0] !== name) out.push(p);
      else if (!done) { out.push([name, value]); done = true; }
    }
    if (!done) out.push([name, value]);
    paramsList.set(this, out);
    this._changed();
  }
  sort() {
    const list = paramsList.get(this).map(function (p, i) { return [p[0], p[1], i]; });
    list.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]; });
    paramsList.set(this, list.map(function (p) { return [p[0], p[1]]; }));
    this._changed();
  }
  forEach(fn, thisArg) { for (const p of paramsList.get(this).slice()) fn.call(thisArg, p[1], p[0], this); }
  keys() { return paramsList.get(this).map(function (p) { return p[0]; })[Symbol.iterator](); }
  values() { return paramsList.get(this).map(function (p) { return p[1]; })[Symbol.iterator](); }
  entries() { return paramsList.get(this).map(function (p) { return [p[0], p[1]]; })[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  toString() { return hostSync('qs.stringify', paramsList.get(this)); }
  get [Symbol.toStringTag]() { return 'URLSearchParams'; }
}
define('URLSearchParams', URLSearchParams);

class URL {
  constructor(url, base) {
    const fields = parseUrl(url, base);
    if (fields === null) throw new TypeError('Invalid URL: ' + safeString(url));
    urlState.set(this, {fields: fields, params: undefined});
  }
  static canParse(url, base) { return parseUrl(url, base) !== null; }
  get searchParams() {
    const st = urlState.get(this);
    if (st.params === undefined) {
      st.params = new URLSearchParams(st.fields[9]);
      paramsOwner.set(st.params, this);
    }
    return st.params;
  }
  toString() { return urlState.get(this).fields[0]; }
  toJSON() { return urlState.get(this).fields[0]; }
  get [Symbol.toStringTag]() { return 'URL'; }
}
urlFields.forEach(function (name, i) {
  const desc = {get: function () { return urlState.get(this).fields[i]; }, configurable: true, enumerable: true};
  if (name !== 'origin') {
    desc.set = function (value) {
      const st = urlState.get(this);
      if (name === 'href') {
        const f = parseUrl(value, undefined);
        if (f === null) throw new TypeError('Invalid URL: ' + safeString(value));
        st.fields = f;
      } else {
        st.fields = hostSync('url.set', st.fields[0], name, safeString(value));
      }
      if (st.params !== undefined) paramsList.set(st.params, hostSync('qs.parse', st.fields[9]));
    };
  }
  Object.defineProperty(URL.prototype, name, desc);
});
define('URL', URL);

// ---- Headers, Request, Response, fetch ------------------------------------------------------------
const headerLists = new WeakMap();
class Headers {
  constructor(init) {
    const map = new Map();
    headerLists.set(this, map);
    if (init === undefined || init === null) return;
    if (init instanceof Headers) { for (const [k, v] of init) this.append(k, v); return; }
    if (typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) { const p = Array.from(pair); this.append(p[0], p[1]); }
      return;
    }
    for (const k of ObjectKeys(init)) this.append(k, init[k]);
  }
  append(name, value) {
    const k = String(name).toLowerCase(), v = String(value).trim();
    const map = headerLists.get(this);
    map.set(k, map.has(k) ? map.get(k) + ', ' + v : v);
  }
  set(name, value) { headerLists.get(this).set(String(name).toLowerCase(), String(value).trim()); }
  get(name) { const v = headerLists.get(this).get(String(name).toLowerCase()); return v === undefined ? null : v; }
  has(name) { return headerLists.get(this).has(String(name).toLowerCase()); }
  delete(name) { headerLists.get(this).delete(String(name).toLowerCase()); }
  getSetCookie() { const v = this.get('set-cookie'); return v === null ? [] : [v]; }
  forEach(fn, thisArg) { for (const [k, v] of this) fn.call(thisArg, v, k, this); }
  entries() { return Array.from(headerLists.get(this).entries()).sort(function (a, b) { return a[0] < b[0] ? -1 : 1; })[Symbol.iterator](); }
  keys() { return Array.from(this.entries(), function (p) { return p[0]; })[Symbol.iterator](); }
  values() { return Array.from(this.entries(), function (p) { return p[1]; })[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return 'Headers'; }
}
define('Headers', Headers);

/** A body as given to Request/Response: text or bytes, and the content type it implies. */
function readBody(body) {
  if (body === undefined || body === null) return {data: undefined, type: undefined};
  if (typeof body === 'string') return {data: body, type: 'text/plain;charset=UTF-8'};
  if (body instanceof URLSearchParams) return {data: body.toString(), type: 'application/x-www-form-urlencoded;charset=UTF-8'};
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return {data: copyBytes(body), type: undefined};
  return {data: safeString(body), type: 'text/plain;charset=UTF-8'};
}

class Body {
  _bytes() {
    if (this.bodyUsed) return PromiseCtor.reject(new TypeError('Body is unusable: Body has already been read'));
    this.bodyUsed = true;
    const d = this._data;
    if (d === undefined) return PromiseCtor.resolve(new Uint8Array(0));
    return PromiseCtor.resolve(typeof d === 'string' ? new Uint8Array(BufferCtor.from(d, 'utf8')) : d);
  }
  text() { return this._bytes().then(function (b) { return BufferCtor.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'); }); }
  json() { return this.text().then(function (t) { return JSONparse(t); }); }
  arrayBuffer() { return this._bytes().then(function (b) { return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); }); }
}

class Request extends Body {
  constructor(input, init) {
    super();
    init = init || {};
    const from = input instanceof Request ? input : undefined;
    this.url = from ? from.url : new URL(input instanceof URL ? input.href : safeString(input)).href;
    this.method = String(init.method || (from ? from.method : 'GET')).toUpperCase();
    this.headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
    const b = init.body !== undefined ? readBody(init.body) : {data: from ? from._data : undefined, type: undefined};
    if ((this.method === 'GET' || this.method === 'HEAD') && b.data !== undefined) throw new TypeError('Request with GET/HEAD method cannot have body.');
    if (b.type !== undefined && !this.headers.has('content-type')) this.headers.set('content-type', b.type);
    this._data = b.data;
    this.bodyUsed = false;
  }
}
define('Request', Request);

const statusTexts = {200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable'};
class Response extends Body {
  constructor(body, init) {
    super();
    init = init || {};
    this.status = init.status === undefined ? 200 : Number(init.status);
    this.statusText = init.statusText === undefined ? (statusTexts[this.status] || '') : String(init.statusText);
    this.headers = new Headers(init.headers);
    const b = readBody(body);
    if (b.type !== undefined && !this.headers.has('content-type')) this.headers.set('content-type', b.type);
    this._data = b.data;
    this.bodyUsed = false;
    this.url = '';
    this.redirected = false;
    this.type = 'default';
  }
  get ok() { return this.status >= 200 && this.status <= 299; }
  clone() {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const r = new Response(undefined, {status: this.status, statusText: this.statusText, headers: this.headers});
    r._data = this._data; r.url = this.url; r.redirected = this.redirected;
    return r;
  }
  static json(data, init) {
    const r = new Response(JSONstringify(data), init);
    r.headers.set('content-type', 'application/json');
    return r;
  }
}
define('Response', Response);

async function segmentFetch(input, init) {
  const call = callOrThrow('fetch()');
  const req = new Request(input, init);
  const headers = [];
  for (const [k, v] of req.headers) headers.push([k, v]);
  const body = req._data === undefined ? undefined : typeof req._data === 'string' ? req._data : req._data.buffer;
  const r = await hostAsync('fetch', {url: req.url, method: req.method, headers: headers, body: body});
  current = call;
  if (r === null || typeof r !== 'object') throw new FetchError('fetch failed');
  if (typeof r.error === 'string') throw new FetchError(r.error);
  const res = new Response(undefined, {status: r.status, statusText: r.statusText, headers: r.headers});
  res._data = new Uint8Array(r.body);
  res.url = r.url;
  res.redirected = r.redirected === true;
  return res;
}
define('fetch', segmentFetch);

// ---- cache ----------------------------------------------------------------------------------------
const cacheEntries = new Map();
define('cache', {
  load: async function load(key, ttlMs, fn) {
    if (typeof key !== 'string') throw new TypeError('cache.load: the key must be a string');
    if (typeof fn !== 'function') throw new TypeError('cache.load: the third argument must be a function');
    const call = current;
    const now = Date.now();
    let entry = cacheEntries.get(key);
    if (entry === undefined || entry.expires <= now) {
      const ttl = Number(ttlMs);
      entry = {expires: now + (ttl > 0 ? ttl : 0), value: PromiseCtor.resolve().then(function () { return fn(); })};
      cacheEntries.set(key, entry);
      const e = entry;
      e.value.catch(function () { if (cacheEntries.get(key) === e) cacheEntries.delete(key); });
    }
    try { return await entry.value; } finally { current = call; }
  },
  delete: function (key) { cacheEntries.delete(String(key)); },
});

// ---- Segment (source functions) -------------------------------------------------------------------
const segmentObject = {};
for (const type of ['track', 'identify', 'page', 'screen', 'group', 'alias']) {
  segmentObject[type] = function (message) {
    const call = callOrThrow('Segment.' + type + '()');
    if (call.messages === undefined) throw new Error('Segment.' + type + '() is only available in a source function');
    const text = JSONstringify(message);
    call.messages.push('{"type":"' + type + '","payload":' + (text === undefined ? 'null' : text) + '}');
  };
}
segmentObject.set = function (...args) {
  const call = callOrThrow('Segment.set()');
  if (call.unsupported === undefined) throw new Error('Segment.set() is only available in a source function');
  let text;
  try { text = JSONstringify(args.length === 1 ? args[0] : args); } catch (e) { text = undefined; }
  call.unsupported.push('Segment.set(' + (text === undefined ? '…' : text.length > 200 ? text.slice(0, 200) + '…' : text) + ')');
};
define('Segment', segmentObject);

// ---- handlers and dispatch ------------------------------------------------------------------------
const handlerNames = ['onTrack', 'onIdentify', 'onPage', 'onScreen', 'onGroup', 'onAlias', 'onDelete', 'onBatch', 'onRequest', 'transformEvent', 'transformBatch'];
const byType = {track: 'onTrack', identify: 'onIdentify', page: 'onPage', screen: 'onScreen', group: 'onGroup', alias: 'onAlias', delete: 'onDelete'};
let H = {};
let settingsText = '{}';
let sourceName;
let rudder = false;

function install(found, settings, source) {
  H = {};
  for (const name of handlerNames) {
    let f;
    try { f = found[name]; } catch (e) { f = undefined; }
    if (typeof f === 'function') H[name] = f;
  }
  settingsText = typeof settings === 'string' ? settings : '{}';
  sourceName = typeof source === 'string' ? source : undefined;
  rudder = H.transformEvent !== undefined || H.transformBatch !== undefined;
  if (rudder) {
    // RudderStack's fetch resolves to the parsed body; fetchV2 to {status, url, headers, body}.
    define('fetch', async function fetch(url, options) {
      const r = await segmentFetch(url, options);
      const t = await r.text();
      try { return JSONparse(t); } catch (e) { return t; }
    });
    define('fetchV2', async function fetchV2(url, options) {
      const r = await segmentFetch(url, options);
      const t = await r.text();
      let body = t;
      try { body = JSONparse(t); } catch (e) {}
      const headers = {};
      for (const [k, v] of r.headers) headers[k] = v;
      return {status: r.status, url: r.url, headers: headers, body: body};
    });
    define('log', function log() { writeLine('log', arguments); });
  }
  return JSONstringify(ObjectKeys(H));
}

function handlerFor(event) {
  if (event === null || typeof event !== 'object' || typeof event.type !== 'string') return undefined;
  if (!Object.prototype.hasOwnProperty.call(byType, event.type)) return undefined;
  return H[byType[event.type]];
}

function settings() {
  // A call may bring its own settings (a destination's over the function's).
  const text = current !== null && current.settings ? current.settings : settingsText;
  return text === '{}' ? {} : JSONparse(text);
}

function metadata(event) {
  if (event === null || typeof event !== 'object') return {};
  const m = {sourceId: sourceName, sourceName: sourceName, messageId: event.messageId};
  return m;
}

function failText(e, extra) {
  const f = failure(e);
  return '{"r":"x","f":' + JSONstringify(f) + (extra || '') + '}';
}

function badReturn(name, value, what) {
  const kind = value === null ? 'null' : isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : 'a ' + typeof value;
  return {c: 'TypeError', m: name + ' returned ' + kind + ': ' + what, t: false, s: ''};
}

/** One handler's return value for an insert: the event(s) kept, or why none. */
function insertOutcome(name, value, inText, allowArray) {
  if (value === undefined || value === null) return '{"r":"d","why":"returned nothing"}';
  let list;
  if (typeof value !== 'object') {
    return '{"r":"x","f":' + JSONstringify(badReturn(name, value, 'an insert function returns the event, or nothing to drop it')) + '}';
  }
  if (isArray(value)) {
    if (!allowArray) return '{"r":"x","f":' + JSONstringify(badReturn(name, value, 'an insert function returns the event, or nothing to drop it')) + '}';
    list = value.filter(function (v) { return v !== null && v !== undefined; });
    if (list.length === 0) return '{"r":"d","why":"returned no events"}';
  } else {
    list = [value];
  }
  const texts = [];
  for (const v of list) {
    if (typeof v !== 'object' || isArray(v)) {
      return '{"r":"x","f":' + JSONstringify(badReturn(name, v, 'an event must be an object')) + '}';
    }
    texts.push(JSONstringify(v));
  }
  if (texts.length === 1 && texts[0] === inText && !isArray(value)) return '{"r":"u"}';
  return '{"r":"c","e":[' + texts.join(',') + ']}';
}

async function runEach(call, texts, events, destination) {
  const out = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    call.eventIndex = texts.length > 1 ? i : undefined;
    const event = events[i];
    let name;
    if (rudder && !destination) name = 'transformEvent';
    else name = event !== null && typeof event === 'object' && typeof event.type === 'string' && Object.prototype.hasOwnProperty.call(byType, event.type) ? byType[event.type] : undefined;
    const fn = name === undefined ? undefined : H[name];
    if (fn === undefined) {
      const what = name === undefined ? 'no handler for events of type ' + JSONstringify(event === null || typeof event !== 'object' ? undefined : event.type) : 'no ' + name + ' handler';
      if (destination) out[i] = '{"r":"x","f":' + JSONstringify({c: 'EventNotSupported', m: what, t: false, s: ''}) + '}';
      else out[i] = '{"r":"d","why":' + JSONstringify(what) + '}';
      continue;
    }
    try {
      const value = await fn(event, rudder ? metadata : settings());
      current = call;
      if (destination) out[i] = '{"r":"ok"}';
      else out[i] = insertOutcome(name, value, texts[i], rudder);
    } catch (e) {
      current = call;
      if (isDrop(e)) out[i] = destination ? '{"r":"ok"}' : '{"r":"d","why":' + JSONstringify(dropReason(e)) + '}';
      else out[i] = failText(e);
    }
  }
  call.eventIndex = undefined;
  return out;
}

async function runInsertBatch(call, texts, events, name) {
  const n = texts.length;
  let value;
  try {
    value = await H[name](events, rudder ? metadata : settings());
    current = call;
  } catch (e) {
    current = call;
    const one = isDrop(e) ? '{"r":"d","why":' + JSONstringify(dropReason(e)) + '}' : failText(e);
    return new Array(n).fill(one);
  }
  if (value === undefined || value === null) return new Array(n).fill('{"r":"d","why":"returned nothing"}');
  if (!isArray(value)) {
    return new Array(n).fill('{"r":"x","f":' + JSONstringify(badReturn(name, value, 'it returns the array of events to keep')) + '}');
  }
  // Outputs go back to their inputs by messageId; one with an unknown messageId stays with the first input.
  const index = new Map();
  for (let i = 0; i < n; i++) {
    const id = events[i] !== null && typeof events[i] === 'object' ? events[i].messageId : undefined;
    if (typeof id === 'string' && !index.has(id)) index.set(id, i);
  }
  const kept = [];
  for (let i = 0; i < n; i++) kept.push([]);
  for (const v of value) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || isArray(v)) {
      return new Array(n).fill('{"r":"x","f":' + JSONstringify(badReturn(name, v, 'each item must be an event object')) + '}');
    }
    const at = typeof v.messageId === 'string' && index.has(v.messageId) ? index.get(v.messageId) : 0;
    kept[at].push(JSONstringify(v));
  }
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = kept[i];
    if (k.length === 0) out[i] = '{"r":"d","why":' + JSONstringify('not returned by ' + name) + '}';
    else if (k.length === 1 && k[0] === texts[i]) out[i] = '{"r":"u"}';
    else out[i] = '{"r":"c","e":[' + k.join(',') + ']}';
  }
  return out;
}

function statusOutcome(item, name) {
  if (item === null || typeof item !== 'object') return '{"r":"ok"}';
  const status = Number(item.status);
  if (!(status >= 0)) return '{"r":"ok"}';
  if (status >= 200 && status <= 299) return '{"r":"ok"}';
  let message = item.errormessage !== undefined ? item.errormessage : item.errorMessage !== undefined ? item.errorMessage : item.message;
  message = message === undefined ? name + ' returned status ' + status + ' for this event' : safeString(message);
  const retry = status === 429 || status === 408 || status >= 500;
  const f = {c: retry ? 'RetryError' : 'InvalidEventPayload', m: message, t: retry, s: ''};
  return '{"r":"x","f":' + JSONstringify(f) + ',"status":' + JSONstringify(status) + '}';
}

async function runDestinationBatch(call, events) {
  const n = events.length;
  let value;
  try {
    value = await H.onBatch(events, settings());
    current = call;
  } catch (e) {
    current = call;
    return new Array(n).fill(isDrop(e) ? '{"r":"ok"}' : failText(e));
  }
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = isArray(value) ? statusOutcome(value[i], 'onBatch') : '{"r":"ok"}';
  return out;
}

function makeRequest(body, headers, url) {
  return {
    headers: new Headers(headers),
    url: new URL(url),
    // Synchronous, as Segment's: its examples read \`const body = request.json()\`; \`await request.json()\` works too.
    text: function text() { return body; },
    json: function json() {
      try { return JSONparse(body); } catch (e) {
        throw new InvalidEventPayload('request.json(): the request body is not JSON (' + e.message + ')');
      }
    },
  };
}

function endCall(call) {
  for (const t of call.tokens) pending.delete(t);
  if (current === call) current = null;
  let lines = call.lines;
  if (call.skipped > 0) lines = lines.concat([{level: 'warn', message: '… ' + call.skipped + ' more console lines not kept (at most ' + MAX_LINES + ' per call)'}]);
  return lines.length === 0 ? '[]' : JSONstringify(lines);
}

async function dispatch(id, mode, settingsOfCall) {
  const call = {id: id, lines: [], skipped: 0, eventIndex: undefined, tokens: [], messages: undefined, unsupported: undefined, settings: settingsOfCall};
  current = call;
  const texts = Array.prototype.slice.call(arguments, 3);
  try {
    if (mode === 's') {
      call.messages = [];
      call.unsupported = [];
      let error = '';
      try {
        if (H.onRequest === undefined) throw new EventNotSupported('no onRequest handler: a source function defines onRequest(request, settings)');
        const request = makeRequest(texts[0], JSONparse(texts[1]), texts[2]);
        await H.onRequest(request, settings());
        current = call;
      } catch (e) {
        current = call;
        error = ',"f":' + JSONstringify(failure(e));
      }
      return '{"m":[' + call.messages.join(',') + '],"u":' + JSONstringify(call.unsupported) + error + ',"c":' + endCall(call) + '}';
    }
    const events = [];
    for (const t of texts) events.push(JSONparse(t));
    let out;
    if (mode === 'i') {
      const batch = rudder ? 'transformBatch' : 'onBatch';
      const single = texts.length === 1 && (rudder ? H.transformEvent !== undefined : handlerFor(events[0]) !== undefined);
      out = H[batch] !== undefined && !single ? await runInsertBatch(call, texts, events, batch) : await runEach(call, texts, events, false);
    } else {
      out = H.onBatch !== undefined ? await runDestinationBatch(call, events) : await runEach(call, texts, events, true);
    }
    return '{"o":[' + out.join(',') + '],"c":' + endCall(call) + '}';
  } catch (e) {
    current = call;
    return '{"x":' + JSONstringify(failure(e)) + ',"c":' + endCall(call) + '}';
  }
}

return {dispatch: dispatch, resume: resume, install: install};
})()`
