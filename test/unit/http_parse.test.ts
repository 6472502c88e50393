/*
 * http_parse.test.ts — the HTTP/1.1 request parser, the chunked decoder
 * and the response writers of src/apps/http_parse.ts, on byte buffers.
 */
import { describe, it, expect } from 'vitest';
import {
  HttpRequest, httpHeaderEnd, httpParse, ChunkDecoder, putDec, putStr, parseDec, patternByte, fillPattern,
  M_GET, M_HEAD, M_PUT, M_POST, M_OTHER,
} from '../../src/apps/http_parse';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function parse(s: string): { rc: number; req: HttpRequest; end: number; b: Uint8Array } {
  const b = enc(s);
  const end = httpHeaderEnd(b, 0, b.length);
  const req = new HttpRequest();
  const rc = end < 0 ? -1 : httpParse(b, 0, end, req);
  return { rc, req, end, b };
}

describe('httpHeaderEnd', () => {
  it('finds CRLFCRLF, tolerates bare LF, skips leading empty lines, -1 when incomplete', () => {
    expect(httpHeaderEnd(enc('GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY'), 0, 30)).toBe(27);
    expect(httpHeaderEnd(enc('GET / HTTP/1.1\nHost: x\n\n'), 0, 24)).toBe(24);
    expect(httpHeaderEnd(enc('\r\n\r\nGET / HTTP/1.1\r\n\r\n'), 0, 22)).toBe(22);
    expect(httpHeaderEnd(enc('GET / HTTP/1.1\r\nHost: x\r\n'), 0, 25)).toBe(-1);
    expect(httpHeaderEnd(enc('GET / HTTP/1.1\r\nHost: x\r\n\r'), 0, 26)).toBe(-1);
  });
});

describe('httpParse', () => {
  it('parses method, target, version and the headers it cares about', () => {
    const p = parse('PUT /upload?x=1 HTTP/1.1\r\nHost: a\r\ncontent-LENGTH:  42 \r\nExpect: 100-Continue\r\n\r\n');
    expect(p.rc).toBe(0);
    expect(p.req.method).toBe(M_PUT);
    expect(new TextDecoder().decode(p.b.subarray(p.req.targetOff, p.req.targetOff + p.req.targetLen))).toBe('/upload?x=1');
    expect(p.req.minor).toBe(1);
    expect(p.req.contentLength).toBe(42);
    expect(p.req.expectContinue).toBe(true);
    expect(p.req.close).toBe(false);
    expect(p.req.chunked).toBe(false);
  });

  it('methods: GET HEAD PUT POST, anything else well-formed is M_OTHER', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\n\r\n').req.method).toBe(M_GET);
    expect(parse('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n').req.method).toBe(M_HEAD);
    expect(parse('POST / HTTP/1.1\r\nHost: a\r\n\r\n').req.method).toBe(M_POST);
    const d = parse('DELETE / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(d.rc).toBe(0);
    expect(d.req.method).toBe(M_OTHER);
  });

  it('connection handling: HTTP/1.1 persistent unless close; HTTP/1.0 only with keep-alive', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n').req.close).toBe(true);
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n').req.close).toBe(true);
    expect(parse('GET / HTTP/1.0\r\n\r\n').req.close).toBe(true);
    expect(parse('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').req.close).toBe(false);
  });

  it('chunked transfer coding', () => {
    const p = parse('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(p.rc).toBe(0);
    expect(p.req.chunked).toBe(true);
    expect(p.req.contentLength).toBe(-1);
  });

  const bad: [string, string, number][] = [
    ['no spaces', 'GET/HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['bad char in method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['control char in target', 'GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['bad version', 'GET / HTTX/1.1\r\nHost: a\r\n\r\n', 400],
    ['version digits', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['missing Host in 1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n', 400],
    ['bad Content-Length', 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 12a\r\n\r\n', 400],
    ['negative Content-Length', 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
    ['huge Content-Length', 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999\r\n\r\n', 400],
    ['conflicting Content-Length', 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['CL and TE', 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['unknown coding', 'PUT /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n', 400],
  ];
  for (const [what, s, want] of bad) {
    it(`malformed: ${what} → ${want}`, () => {
      const p = parse(s);
      expect(p.end).toBeGreaterThan(0);
      expect(p.rc).toBe(want);
    });
  }

  it('identical duplicate Content-Length is accepted', () => {
    const p = parse('PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n');
    expect(p.rc).toBe(0);
    expect(p.req.contentLength).toBe(7);
  });
});

describe('ChunkDecoder', () => {
  const body = '5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT';
  it('decodes a chunked body in one piece, stops at its end', () => {
    const d = new ChunkDecoder(2);
    d.reset(1);
    const b = enc(body);
    const used = d.feed(1, b, 0, b.length);
    expect(d.done(1)).toBe(true);
    expect(d.total[1]).toBe(31);
    expect(used).toBe(b.length - 4);
  });
  it('byte by byte gives the same result', () => {
    const d = new ChunkDecoder(1);
    d.reset(0);
    const b = enc(body);
    let used = 0;
    for (let i = 0; i < b.length && !d.done(0); i++) used += d.feed(0, b, i, 1);
    expect(d.done(0)).toBe(true);
    expect(d.total[0]).toBe(31);
    expect(used).toBe(b.length - 4);
  });
  for (const [what, s] of [
    ['no size', '\r\nabc'],
    ['bad hex', 'zz\r\n'],
    ['missing CRLF after data', '3\r\nabcX\r\n0\r\n\r\n'],
    ['size overflow', 'fffffffffffff\r\n'],
    ['CR without LF', '3\rX'],
  ]) {
    it(`malformed chunked body: ${what}`, () => {
      const d = new ChunkDecoder(1);
      d.reset(0);
      const b = enc(s);
      d.feed(0, b, 0, b.length);
      expect(d.failed(0)).toBe(true);
      expect(d.done(0)).toBe(false);
    });
  }
});

describe('writers and pattern', () => {
  it('putDec / putStr / parseDec', () => {
    const b = new Uint8Array(32);
    let p = putStr(b, 0, 'n=');
    p = putDec(b, p, 10000000);
    p = putStr(b, p, ',');
    p = putDec(b, p, 0);
    expect(new TextDecoder().decode(b.subarray(0, p))).toBe('n=10000000,0');
    expect(parseDec(enc('1048576'), 0, 7)).toBe(1048576);
    expect(parseDec(enc('1x'), 0, 2)).toBe(-1);
    expect(parseDec(enc(''), 0, 0)).toBe(-1);
    // no room: nothing written
    expect(putDec(new Uint8Array(2), 0, 123)).toBe(0);
  });
  it('fillPattern from any offset equals patternByte', () => {
    const b = new Uint8Array(3000);
    fillPattern(b, 0, 3000, 123456);
    for (let i = 0; i < 3000; i++) expect(b[i]).toBe(patternByte(123456 + i));
    expect(patternByte(0)).toBe(0);
    expect(patternByte(250)).toBe(250);
    expect(patternByte(251)).toBe(1);
    expect(patternByte(600)).toBe((600 % 251 + Math.floor(600 / 251)) & 255);
  });
});
