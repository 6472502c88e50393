/*
 * http.test.ts — the HTTP/1.1 server of src/apps/http.ts on stack B
 * (through a ServiceMux), clients on stack A's TCP API over a PairLink, in
 * virtual time: status page, /bytes/N streaming, uploads (Content-Length,
 * chunked, 100-continue), keep-alive and pipelining, 404/400/405/431,
 * 16 concurrent connections, idle timeout. Every test ends with every TCB
 * and skb back in its pool.
 */
import { describe, it, expect } from 'vitest';
import { serverPair, connect, Client, finish, request, until, runMs, parseResponse, SEnv, step as step1 } from './apps_tcp_util';
import { tcpSetsockopt, SOL_SOCKET, SO_LINGER } from '../../src/transport/tcp/tcp_api';
import { HttpService, HTTP_PORT, defaultHttpOptions, HttpOptions } from '../../src/apps/http';
import { patternByte } from '../../src/apps/http_parse';
import { IP_INRECEIVES } from '../../src/core/mib';

function setup(o?: Partial<HttpOptions>): { e: SEnv; h: HttpService } {
  let h: HttpService | null = null;
  const e = serverPair((x) => [(h = new HttpService(x.b, HTTP_PORT, Object.assign(defaultHttpOptions(), o ?? {})))]);
  return { e, h: h! };
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 192.0.2.2\r\n${extra}\r\n`;
const text = (b: Uint8Array): string => new TextDecoder('latin1').decode(b);

describe('http server', () => {
  it('GET / → 200 status page with the stack counters', () => {
    const { e, h } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    const r = request(cl, GET('/'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['connection']).toBe('keep-alive');
    const body = text(r.body);
    expect(body.startsWith('slabnet b\n')).toBe(true);
    const m = /^Ip\.InReceives (\d+)$/m.exec(body);
    expect(m).not.toBe(null);
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThanOrEqual(e.b.mib.ip[IP_INRECEIVES]);
    expect(body).toMatch(/^Tcp\.PassiveOpens 1$/m);
    expect(body).toMatch(/^http\.requests 1$/m);
    expect(h.stats().responses2xx).toBe(1);
    cl.close();
    finish(e);
  });

  it('GET /sockets → the ss-style listing with the listener and this connection', () => {
    const { e } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 8192);
    const r = request(cl, GET('/sockets'));
    expect(r.status).toBe(200);
    const body = text(r.body);
    expect(body.split('\n')[0]).toMatch(/^Netid\s+State\s+Recv-Q\s+Send-Q/);
    expect(body).toMatch(new RegExp('^tcp\\s+LISTEN\\s+\\d+\\s+\\d+\\s+\\*:' + HTTP_PORT + '\\s', 'm'));
    expect(body).toMatch(/^tcp\s+ESTABLISHED\s+/m);
    const post = request(cl, 'POST /sockets HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    expect(post.status).toBe(405);
    cl.close();
    finish(e);
  });

  it('GET /bytes/1000000 → exactly 1000000 bytes of the pattern; HEAD gives the length only', () => {
    const { e, h } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 1 << 20);
    const r = request(cl, GET('/bytes/1000000'), 60000);
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('1000000');
    expect(r.body.length).toBe(1000000);
    let bad = -1;
    for (let i = 0; i < r.body.length; i++) {
      if (r.body[i] !== patternByte(i)) {
        bad = i;
        break;
      }
    }
    expect(bad).toBe(-1);
    const hd = request(cl, 'HEAD /bytes/777 HTTP/1.1\r\nHost: x\r\n\r\n', 5000, true);
    expect(hd.status).toBe(200);
    expect(hd.headers['content-length']).toBe('777');
    runMs(e, 50);
    cl.pump();
    expect(cl.n).toBe(0); // no body after HEAD
    expect(h.stats().patternBytes).toBe(1000000);
    cl.close();
    finish(e);
  });

  it('PUT /upload of 1 MB → "1048576"', () => {
    const { e, h } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    const body = new Uint8Array(1048576);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 255;
    const hdr = new TextEncoder().encode('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n');
    const all = new Uint8Array(hdr.length + body.length);
    all.set(hdr);
    all.set(body, hdr.length);
    const r = request(cl, all, 60000);
    expect(r.status).toBe(200);
    expect(text(r.body)).toBe('1048576\n');
    expect(h.stats().bodyBytes).toBe(1048576);
    cl.close();
    finish(e);
  });

  it('POST /upload chunked, and Expect: 100-continue gets the interim response', () => {
    const { e } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    const r1 = request(
      cl,
      'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '4\r\nWiki\r\n6;x=y\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n',
    );
    expect(r1.status).toBe(200);
    expect(text(r1.body)).toBe('24\n');
    cl.write('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    expect(cl.runUntil(() => cl.text().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 2000)).toBe(true);
    cl.consume(25);
    const r2 = request(cl, 'hello');
    expect(r2.status).toBe(200);
    expect(text(r2.body)).toBe('5\n');
    cl.close();
    finish(e);
  });

  it('keep-alive: 3 requests on one connection, then pipelined requests in one write', () => {
    const { e, h } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    for (let k = 1; k <= 3; k++) {
      const r = request(cl, GET('/bytes/' + k * 100));
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(k * 100);
    }
    expect(h.stats().accepted).toBe(1);
    cl.write(GET('/bytes/10') + 'PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' + GET('/nope'));
    const sizes: number[] = [];
    expect(
      cl.runUntil(() => {
        for (;;) {
          const r = parseResponse(cl.bytes());
          if (r === null) return sizes.length === 3;
          sizes.push(r.status);
          cl.consume(r.size);
        }
      }, 5000),
    ).toBe(true);
    expect(sizes).toEqual([200, 200, 404]);
    expect(h.stats().requests).toBe(6);
    expect(h.stats().accepted).toBe(1);
    cl.close();
    finish(e);
  });

  it('404 for unknown paths, 405 with Allow for wrong methods (connection kept)', () => {
    const { e } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    const r1 = request(cl, GET('/missing'));
    expect(r1.status).toBe(404);
    const r2 = request(cl, GET('/bytes/abc'));
    expect(r2.status).toBe(404);
    const r3 = request(cl, GET('/upload'));
    expect(r3.status).toBe(405);
    expect(r3.headers['allow']).toBe('PUT, POST');
    const r4 = request(cl, 'DELETE / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r4.status).toBe(405);
    expect(r4.headers['allow']).toBe('GET, HEAD');
    const r5 = request(cl, 'PUT /bytes/5 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nzz');
    expect(r5.status).toBe(405);
    expect(r5.headers['connection']).toBe('keep-alive');
    const r6 = request(cl, GET('/'));
    expect(r6.status).toBe(200);
    cl.close();
    finish(e);
  });

  for (const [what, req, want] of [
    ['garbage request line', 'HELLO\r\n\r\n', 400],
    ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['bad Content-Length', 'PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n', 400],
    ['gzip transfer coding', 'PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: x\r\n\r\n', 505],
    ['bad chunk size', 'PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nXYZ\r\n', 400],
  ] as [string, string, number][]) {
    it(`malformed request (${what}) → ${want}, Connection: close, then the server closes`, () => {
      const { e, h } = setup();
      const cl = new Client(e, connect(e, HTTP_PORT), 4096);
      const r = request(cl, req);
      expect(r.status).toBe(want);
      expect(r.headers['connection']).toBe('close');
      expect(cl.runUntil(() => cl.eof, 3000)).toBe(true);
      cl.close();
      expect(until(e, () => h.stats().active === 0, 3000)).toBe(true);
      finish(e);
    });
  }

  it('oversized header section → 431 and close', () => {
    const { e, h } = setup({ hdrMax: 1024 });
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    const r = request(cl, GET('/', 'X-Big: ' + 'a'.repeat(2000) + '\r\n'));
    expect(r.status).toBe(431);
    expect(cl.runUntil(() => cl.eof, 5000)).toBe(true);
    expect(h.stats().responses4xx).toBe(1);
    cl.close();
    finish(e);
  });

  it('a request trickling in one byte per millisecond is parsed once complete', () => {
    const { e } = setup();
    const c = connect(e, HTTP_PORT);
    const cl = new Client(e, c, 4096);
    const req = GET('/bytes/321');
    for (let i = 0; i < req.length; i++) {
      cl.write(req[i]);
      cl.pump();
      step1(e);
    }
    expect(cl.runUntil(() => parseResponse(cl.bytes()) !== null, 2000)).toBe(true);
    const r = parseResponse(cl.bytes())!;
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(321);
    cl.close();
    finish(e);
  });

  it('a client that resets mid-download frees its slot; a third client waits for a free slot (maxConns 2)', () => {
    const { e, h } = setup({ maxConns: 2 });
    const a = new Client(e, connect(e, HTTP_PORT), 1 << 16);
    const b = new Client(e, connect(e, HTTP_PORT), 1 << 16);
    const c = new Client(e, connect(e, HTTP_PORT), 1 << 16);
    a.write(GET('/bytes/5000000'));
    b.write(GET('/bytes/10'));
    c.write(GET('/bytes/20'));
    expect(b.runUntil(() => parseResponse(b.bytes()) !== null, 2000)).toBe(true);
    runMs(e, 50);
    c.pump();
    expect(c.n).toBe(0); // both slots busy (a downloading, b kept alive)
    expect(h.stats().active).toBe(2);
    // a gives up: abortive close (RST)
    tcpSetsockopt(e.a, a.c, SOL_SOCKET, SO_LINGER, 0);
    a.close();
    expect(until(e, () => h.stats().accepted === 3, 2000)).toBe(true);
    expect(c.runUntil(() => parseResponse(c.bytes()) !== null, 2000)).toBe(true);
    expect(parseResponse(c.bytes())!.body.length).toBe(20);
    expect(h.stats().aborted).toBeGreaterThanOrEqual(1);
    b.close();
    c.close();
    finish(e);
  });

  it('a client closing mid-body gets no answer; the slot is released', () => {
    const { e, h } = setup();
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    cl.write('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(5000));
    cl.shutAfterSend = true;
    expect(cl.runUntil(() => cl.eof, 3000)).toBe(true);
    expect(cl.n).toBe(0);
    expect(h.stats().active).toBe(0);
    expect(h.stats().responses2xx + h.stats().responses4xx).toBe(0);
    cl.close();
    finish(e);
  });

  it('16 concurrent connections, each GET /bytes/100000 exact', () => {
    const { e, h } = setup({ maxConns: 16 });
    const cls: Client[] = [];
    for (let k = 0; k < 16; k++) {
      const cl = new Client(e, connect(e, HTTP_PORT), 1 << 17);
      cl.write(GET('/bytes/100000', 'Connection: close\r\n'));
      cls.push(cl);
    }
    const ok = until(e, () => {
      for (const cl of cls) cl.pump();
      return cls.every((cl) => cl.eof);
    }, 120000);
    expect(ok).toBe(true);
    for (const cl of cls) {
      const r = parseResponse(cl.bytes());
      expect(r).not.toBe(null);
      expect(r!.status).toBe(200);
      expect(r!.body.length).toBe(100000);
      expect(r!.size).toBe(cl.n);
      let same = true;
      for (let i = 0; i < 100000; i += 997) if (r!.body[i] !== patternByte(i)) same = false;
      expect(same).toBe(true);
    }
    expect(h.stats().maxActive).toBe(16);
    expect(h.stats().accepted).toBe(16);
    for (const cl of cls) cl.close();
    finish(e);
  });

  it('an idle connection is closed after idleMs', () => {
    const { e, h } = setup({ idleMs: 1000 });
    const cl = new Client(e, connect(e, HTTP_PORT), 4096);
    expect(request(cl, GET('/bytes/1')).status).toBe(200);
    expect(cl.runUntil(() => cl.eof || cl.err !== 0, 3000)).toBe(true);
    expect(h.stats().idleClosed).toBe(1);
    cl.close();
    finish(e);
  });
});
