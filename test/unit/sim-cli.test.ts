/*
 * The main job (`npm start` = slabnet sim): runs the simulated LAN of
 * boards, must succeed, account for every skb, write a valid pcap, and
 * replay identically for the same seed. The ESP32 board leases its address
 * from the host's DHCP server, resolves www.lan through the host's DNS
 * server and fetches a page by name, and releases its lease at the end.
 * The Pico and the WiFi run what their bundles run, the compact stack
 * (src/compact/) with their board's compact config (a SimCompactHost):
 * they lease, resolve and fetch the same way with the compact API (DHCP,
 * dnsLookup, compact TCP), and the WiFi's UDP echo client is a compact
 * UDP socket (udpOpen/udpSendTo and the datagram the socket holds).
 */
import { describe, it, expect, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSim } from '../../src/cli/sim';
import { readPcap } from '../../src/sim/pcap';
import { espruinoEsp32W5500 } from '../../boards/espruino-esp32-w5500';
import { espruinoPicoEnc28j60 } from '../../boards/espruino-pico-enc28j60';
import { espruinoWifiW5500 } from '../../boards/espruino-wifi-w5500';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    const code = await runSim(args);
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}

describe('slabnet sim (npm start)', () => {
  it('runs the LAN of boards, writes a pcap, and every skb returns (--json)', async () => {
    const file = path.join(os.tmpdir(), 'slabnet-simcli-' + process.pid + '.pcap');
    const r = await run(['--seed', '3', '--pcap', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.ok).toBe(true);
    expect(rep.failures).toEqual([]);
    expect(rep.hosts.length).toBe(4);
    for (const h of rep.hosts) {
      expect(h.pool.inUse).toBe(0);
      expect(h.icmp.InEchoReps).toBeGreaterThan(0);
      expect(h.arp.length).toBe(3);
    }
    // TCP: every board has TCBs: the host, the ESP32, and the Pico and the WiFi (the compact stack's full profile)
    const byName: { [k: string]: any } = {};
    for (const h of rep.hosts) byName[h.name] = h;
    expect(byName.esp32.tcbs.size).toBe(espruinoEsp32W5500.config.tcpMaxSockets);
    expect(byName.pico.tcbs.size).toBe(espruinoPicoEnc28j60.compact!.config.tcbs);
    expect(byName.wifi.tcbs.size).toBe(espruinoWifiW5500.compact!.config.tcbs);
    for (const n of ['host', 'esp32', 'pico', 'wifi']) {
      const h = byName[n];
      expect(h.tcbs.inUse).toBe(0);
      expect(h.tcbs.timeWait).toBe(0);
      expect(h.tcbs.synRecv).toBe(0);
      if (n === 'host' || n === 'esp32') expect(h.tcp.CurrEstab).toBe(0);
    }
    // the host's GET/PUT to the esp32's server, the esp32's, the Pico's and the WiFi's GETs by name to the host's
    expect(byName.host.tcp.ActiveOpens).toBe(1);
    expect(byName.host.tcp.PassiveOpens).toBe(3);
    expect(byName.esp32.tcp.ActiveOpens).toBe(1);
    expect(byName.esp32.tcp.PassiveOpens).toBe(1);
    expect(byName.esp32.tcp.OutRsts).toBe(0);
    expect(byName.host.tcp.OutRsts).toBe(0);
    expect(byName.pico.tcp.OutRsts).toBe(0);
    expect(byName.wifi.tcp.OutRsts).toBe(0);
    expect(byName.esp32.tcp.OutSegs).toBeGreaterThan(200000 / 1460);
    expect(rep.tcp.connected).toBe(true);
    expect(rep.tcp.closed).toBe(true);
    expect(rep.http.length).toBe(2);
    const [get, put] = rep.http;
    expect(get).toMatchObject({ method: 'GET', path: '/bytes/200000', status: 200, bytes: 200000, ok: true });
    expect(put).toMatchObject({ method: 'PUT', path: '/upload', status: 200, bytes: 100000, ok: true, reply: '100000' });
    expect(get.ms).toBeGreaterThan(0);
    // the ss listing of the ESP32 taken while the connection was open
    expect(rep.tcp.esp32Sockets.some((l: string) => /^tcp\s+LISTEN\s.*\*:80\s/.test(l))).toBe(true);
    expect(rep.tcp.esp32Sockets.some((l: string) => l.startsWith('tcp') && /\sESTABLISHED\s/.test(l) && l.includes(' ' + rep.dhcp.addr + ':80 ') && l.includes(' 192.0.2.1:'))).toBe(true);
    // (and the DHCP client's socket)
    expect(rep.tcp.esp32Sockets.some((l: string) => /^udp\s+UNCONN\s.*\*:68\s/.test(l))).toBe(true);
    for (const p of rep.pings) expect(p.ok).toBe(p.count);
    expect(rep.pings.filter((p: { len: number; to: string; from: string }) => p.len === 3000 && (p.to === 'esp32' || p.from === 'esp32')).length).toBe(2);
    // each board runs what its bundle runs: the Pico's and the WiFi's is the compact stack (no
    // reassembly), so a fragmented ping to the Pico is dropped and counted (fragDrop), never answered
    expect(byName.pico.pool.large).toBe(0);
    expect(byName.pico.stack).toBe('compact');
    expect(byName.pico.compact.profile).toBe('full');
    expect(byName.pico.compact.config).toMatchObject(espruinoPicoEnc28j60.compact!.config);
    expect(byName.wifi.pool.large).toBe(0);
    expect(byName.wifi.stack).toBe('compact');
    expect(byName.wifi.compact.profile).toBe(espruinoWifiW5500.compact!.profile);
    expect(byName.wifi.compact.profile).toBe('full');
    expect(byName.wifi.compact.config).toEqual(espruinoWifiW5500.compact!.config);
    for (const n of ['host', 'esp32']) expect(byName[n]).toMatchObject({ stack: 'general', compact: null });
    expect(rep.fragToPico).toMatchObject({ replies: 0, ok: true });
    expect(rep.fragToPico.reasmFails).toBeGreaterThanOrEqual(2);
    expect(rep.fragToPico.fragDrop).toBe(rep.fragToPico.reasmFails);
    expect(byName.pico.ip.ReasmFails).toBe(rep.fragToPico.reasmFails);
    expect(byName.pico.compact.counters.fragDrop).toBe(rep.fragToPico.fragDrop);
    // the Pico answered every echo request it was sent, and the replies to its own pings came back
    expect(byName.pico.icmp.InEchos).toBe(6);
    expect(byName.pico.icmp.OutEchoReps).toBe(6);
    expect(byName.pico.icmp.InEchoReps).toBe(6);
    // (the Pico, bound by then, counts the WiFi's broadcast DHCPDISCOVERs and DHCPREQUESTs to
    // port 67 as udpNoPort: no ICMP to a broadcast; every one the switch saw was flooded to it)
    const wifiDhcpBcasts = rep.timeline.filter((e: { what: string }) => /^wifi: DHCP(DISCOVER|REQUEST)( |$)/.test(e.what)).length;
    expect(wifiDhcpBcasts).toBeGreaterThanOrEqual(2);
    expect(byName.pico.compact.counters).toMatchObject({ rxBad: 0, udpNoPort: wifiDhcpBcasts, udpFull: 0, noRoute: 0, tcpRstTx: 0 });
    expect(byName.pico.compact.rxFifoDrops).toBe(0);
    expect(byName.pico.nic.rxFrames).toBe(byName.pico.compact.counters.rx);
    expect(byName.pico.nic.txFrames).toBe(byName.pico.compact.counters.tx);
    // the WiFi (on the lossy cable): every ping to it answered (some twice: a reply lost on the
    // way back), every one of its own answered, and nothing refused or reset
    expect(byName.wifi.icmp.InEchos).toBeGreaterThanOrEqual(6);
    expect(byName.wifi.icmp.OutEchoReps).toBe(byName.wifi.icmp.InEchos);
    expect(byName.wifi.icmp.InEchoReps).toBeGreaterThanOrEqual(6);
    expect(byName.wifi.icmp.OutEchos).toBeGreaterThanOrEqual(byName.wifi.icmp.InEchoReps);
    expect(byName.wifi.compact.counters).toMatchObject({ rxBad: 0, fragDrop: 0, udpNoPort: 0, udpFull: 0, noRoute: 0, tcpRstTx: 0 });
    expect(byName.wifi.compact.rxFifoDrops).toBe(0);
    expect(byName.wifi.nic.rxFrames).toBe(byName.wifi.compact.counters.rx);
    expect(byName.wifi.nic.txFrames).toBe(byName.wifi.compact.counters.tx);
    // UDP echo: the host over the socket API, the WiFi over its compact UDP socket; the
    // datagrams fit the Pico's one-datagram sockets (udpBuf) and the WiFi's
    expect(rep.udp.map((u: { from: string; stack: string }) => u.from + ':' + u.stack)).toEqual(['host:general', 'wifi:compact']);
    for (const u of rep.udp) expect(u.len).toBeLessThanOrEqual(espruinoPicoEnc28j60.compact!.config.udpBuf!);
    expect(rep.udp[1].len).toBeLessThanOrEqual(espruinoWifiW5500.compact!.config.udpBuf!);
    expect(rep.udp[1].len).toBe(Math.min(1200, espruinoPicoEnc28j60.compact!.config.udpBuf!));
    expect(rep.udp.every((u: { ok: number; count: number }) => u.ok === u.count)).toBe(true);
    expect(rep.frames.ipFragments).toBeGreaterThanOrEqual(6);
    expect(rep.timeline.length).toBeGreaterThan(20);
    const cap = readPcap(new Uint8Array(fs.readFileSync(file)));
    fs.unlinkSync(file);
    expect(cap).not.toBeNull();
    expect(cap!.records.length).toBe(rep.pcap.frames);
    expect(cap!.records.length).toBe(rep.switch.received);
    expect(rep.wallMs).toBeLessThan(5000);

    // ---- DHCP: the esp32 leased an address from the host's pool, used it, and released it ----
    expect(rep.dhcp).toMatchObject({
      client: 'esp32', server: '192.0.2.1', prefixLen: 24, router: '192.0.2.1', dns: ['192.0.2.1'], leaseSec: 600,
      released: true, serverReleased: true,
    });
    const m = /^192\.0\.2\.(\d+)$/.exec(rep.dhcp.addr);
    expect(m, rep.dhcp.addr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(100);
    expect(Number(m![1])).toBeLessThan(116);
    expect(byName.esp32.addr).toBe(rep.dhcp.addr);
    // RFC 5227 before using it: PROBE_WAIT (0-1 s), three probes 1-2 s apart, ANNOUNCE_WAIT (2 s)
    expect(rep.dhcp.boundMs).toBeGreaterThanOrEqual(4000);
    expect(rep.dhcp.boundMs).toBeLessThan(30000);
    expect(rep.dhcp.counters).toMatchObject({ probes: 3, conflicts: 0, naks: 0, declines: 0, releases: 1 });
    expect(rep.dhcp.counters.discovers).toBeGreaterThanOrEqual(1);
    expect(rep.dhcp.counters.acks).toBe(1);
    expect(rep.hostServices.dhcp).toMatchObject({ acks: 3, releases: 3, bound: 0, naks: 0 });
    expect(rep.frames.dhcp).toBeGreaterThanOrEqual(5);
    // the pings reached the esp32 at the leased address; the other hosts learned its MAC there
    for (const p of rep.pings.filter((x: { to: string; from: string }) => x.to === 'esp32' || x.from === 'esp32')) expect(p.ok).toBe(p.count);
    for (const n of ['host', 'pico', 'wifi']) expect(byName[n].arp.some((e: { ip: string; mac: string }) => e.ip === rep.dhcp.addr && e.mac === byName.esp32.mac)).toBe(true);

    // ---- DNS: www.lan → CNAME host.lan → 192.0.2.1, through the server from the lease ----
    expect(rep.dns).toMatchObject({ name: 'www.lan', addr: '192.0.2.1', ttl: 300, cname: 'host.lan', ok: true });
    expect(rep.dns.counters).toMatchObject({ requests: 1, resolved: 1, failures: 0 });
    expect(rep.hostServices.dns.answered).toBeGreaterThanOrEqual(1);
    expect(rep.frames.dns).toBeGreaterThanOrEqual(4);

    // ---- the page by name ----
    expect(rep.httpByName).toMatchObject({ url: 'http://www.lan/bytes/16384', status: 200, bytes: 16384, ok: true });
    expect(rep.httpByName.ms).toBeGreaterThan(0);
    expect(rep.hostServices.http).toMatchObject({ accepted: 3, responses2xx: 3, patternBytes: 3 * 16384, active: 0 });

    // ---- the Pico, on the compact stack: its own lease, name lookup and page over its TCP ----
    expect(rep.compactBoards.length).toBe(2);
    const pc = rep.compactBoards[0];
    expect(pc).toMatchObject({ name: 'pico', profile: 'full' });
    expect(pc.config).toMatchObject(espruinoPicoEnc28j60.compact!.config);
    expect(pc.dhcp).toMatchObject({ server: '192.0.2.1', prefixLen: 24, router: '192.0.2.1', dns: '192.0.2.1', leaseSec: 600, ok: true, released: true, serverReleased: true });
    const pm = /^192\.0\.2\.(\d+)$/.exec(pc.dhcp.addr);
    expect(pm, pc.dhcp.addr).not.toBeNull();
    expect(Number(pm![1])).toBeGreaterThanOrEqual(100);
    expect(Number(pm![1])).toBeLessThan(116);
    expect(pc.dhcp.addr).not.toBe(rep.dhcp.addr);
    expect(byName.pico.addr).toBe(pc.dhcp.addr);
    expect(pc.dns).toMatchObject({ name: 'www.lan', addr: '192.0.2.1', cname: 'host.lan', ok: true, drops: 0 });
    expect(pc.httpByName).toMatchObject({ url: 'http://www.lan/bytes/16384', status: 200, bytes: 16384, ok: true, closed: true });
    expect(pc.httpByName.ms).toBeGreaterThan(0);
    expect(pc.counters).toEqual(byName.pico.compact.counters);
    // the others reached it at its leased address
    for (const p of rep.pings.filter((x: { to: string; from: string }) => x.to === 'pico' || x.from === 'pico')) expect(p.ok).toBe(p.count);
    expect(rep.pings.filter((x: { to: string; from: string }) => x.to === 'pico' || x.from === 'pico').length).toBe(6);
    for (const n of ['host', 'wifi', 'esp32']) expect(byName[n].arp.some((e: { ip: string; mac: string }) => e.ip === pc.dhcp.addr && e.mac === byName.pico.mac)).toBe(true);

    // ---- the WiFi, on the compact stack too (its board's config): the same ----
    const wc = rep.compactBoards[1];
    expect(wc).toMatchObject({ name: 'wifi', board: espruinoWifiW5500.name, profile: 'full' });
    expect(wc.config).toEqual(espruinoWifiW5500.compact!.config);
    expect(wc.dhcp).toMatchObject({ server: '192.0.2.1', prefixLen: 24, router: '192.0.2.1', dns: '192.0.2.1', leaseSec: 600, ok: true, released: true, serverReleased: true });
    const wm = /^192\.0\.2\.(\d+)$/.exec(wc.dhcp.addr);
    expect(wm, wc.dhcp.addr).not.toBeNull();
    expect(Number(wm![1])).toBeGreaterThanOrEqual(100);
    expect(Number(wm![1])).toBeLessThan(116);
    expect(wc.dhcp.addr).not.toBe(rep.dhcp.addr);
    expect(wc.dhcp.addr).not.toBe(pc.dhcp.addr);
    expect(byName.wifi.addr).toBe(wc.dhcp.addr);
    expect(wc.dns).toMatchObject({ name: 'www.lan', addr: '192.0.2.1', cname: 'host.lan', ok: true, drops: 0 });
    expect(wc.httpByName).toMatchObject({ url: 'http://www.lan/bytes/16384', status: 200, bytes: 16384, ok: true, closed: true });
    expect(wc.httpByName.ms).toBeGreaterThan(0);
    expect(wc.counters).toEqual(byName.wifi.compact.counters);
    for (const p of rep.pings.filter((x: { to: string; from: string }) => x.to === 'wifi' || x.from === 'wifi')) expect(p.ok).toBe(p.count);
    expect(rep.pings.filter((x: { to: string; from: string }) => x.to === 'wifi' || x.from === 'wifi').length).toBe(6);
    for (const n of ['host', 'pico', 'esp32']) expect(byName[n].arp.some((e: { ip: string; mac: string }) => e.ip === wc.dhcp.addr && e.mac === byName.wifi.mac)).toBe(true);

    // ---- the timeline tells it in order ----
    const lines: string[] = rep.timeline.map((e: { what: string }) => e.what);
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const a = rep.dhcp.addr.replace(/\./g, '\\.');
    const pa = pc.dhcp.addr.replace(/\./g, '\\.');
    const wa = wc.dhcp.addr.replace(/\./g, '\\.');
    const wcf = espruinoWifiW5500.compact!.config;
    const order = [
      /^pico: eth0 up, no address \(DHCP\) \(Espruino Pico \+ ENC28J60; compact stack, full profile: /,
      new RegExp(
        '^wifi: eth0 up, no address \\(DHCP\\) \\(Espruino WiFi \\+ W5500 \\(MACRAW\\); compact stack, full profile: ' +
          `${wcf.tcbs} TCBs x ${wcf.tcpBuf} B, ARP ${wcf.arpSize}, ${wcf.udpSocks} UDP sockets x ${wcf.udpBuf} B\\)$`,
      ),
      /^esp32: eth0 up, no address \(DHCP\)/,
      /^esp32: DHCPDISCOVER$/,
      new RegExp('^host: DHCPOFFER ' + a + '$'),
      new RegExp('^esp32: DHCPREQUEST ' + a + '$'),
      new RegExp('^host: DHCPACK ' + a + ' lease 600 s$'),
      new RegExp('^esp32: ARP probe who-has ' + a + ' '),
      new RegExp('^esp32: bound ' + a + '/24 router 192\\.0\\.2\\.1 dns 192\\.0\\.2\\.1 lease 600 s \\(dhcp server 192\\.0\\.2\\.1\\)$'),
      /^esp32: DNS query A www\.lan$/,
      /^host: DNS answer www\.lan: CNAME host\.lan \(ttl 600\), A 192\.0\.2\.1 \(ttl 300\)$/,
      /^esp32: resolved www\.lan → 192\.0\.2\.1 \(ttl 300 s, via CNAME host\.lan\)/,
      /^esp32: GET http:\/\/www\.lan\/bytes\/16384 → 200, 16384 bytes in [\d.]+ ms \(pattern ok\)$/,
      /^pico: DHCPDISCOVER$/,
      new RegExp('^host: DHCPOFFER ' + pa + '$'),
      new RegExp('^pico: DHCPREQUEST ' + pa + '$'),
      new RegExp('^host: DHCPACK ' + pa + ' lease 600 s$'),
      new RegExp('^pico: bound ' + pa + '/24 router 192\\.0\\.2\\.1 dns 192\\.0\\.2\\.1 lease 600 s \\(dhcp server 192\\.0\\.2\\.1\\)$'),
      /^pico: DNS query A www\.lan$/,
      /^pico: resolved www\.lan → 192\.0\.2\.1 \(via CNAME host\.lan\)/,
      /^pico: TCP established 192\.0\.2\.1:80 /,
      /^pico: GET http:\/\/www\.lan\/bytes\/16384 → 200, 16384 bytes in [\d.]+ ms \(pattern ok\)$/,
      /^pico: TCP closed /,
      /^wifi: DHCP client started \(hostname wifi; compact stack dhcpStart\)$/,
      /^wifi: DHCPDISCOVER$/,
      new RegExp('^host: DHCPOFFER ' + wa + '$'),
      new RegExp('^wifi: DHCPREQUEST ' + wa + '$'),
      new RegExp('^host: DHCPACK ' + wa + ' lease 600 s$'),
      new RegExp('^wifi: bound ' + wa + '/24 router 192\\.0\\.2\\.1 dns 192\\.0\\.2\\.1 lease 600 s \\(dhcp server 192\\.0\\.2\\.1\\)$'),
      /^wifi: resolved www\.lan → 192\.0\.2\.1 \(via CNAME host\.lan\)/,
      /^wifi: TCP established 192\.0\.2\.1:80 /,
      /^wifi: GET http:\/\/www\.lan\/bytes\/16384 → 200, 16384 bytes in [\d.]+ ms \(pattern ok\)$/,
      /^wifi: TCP closed /,
      /^host: ping /,
      new RegExp('^wifi: ping ' + pa + ' 56 bytes seq='),
      /^pico: \d+ fragment\(s\) dropped and counted \(fragDrop\)$/,
      /^wifi: UDP client on port \d+ \(compact stack udpOpen; /,
      new RegExp('^wifi: UDP 548 bytes to ' + pa + ':7 #1$'),
      /^wifi: UDP echo #3 back in [\d.]+ ms$/,
      /^host: GET \/bytes\/200000 → 200/,
      new RegExp('^pico: released ' + pa + ' '),
      new RegExp('^pico: DHCPRELEASE ' + pa + '$'),
      new RegExp('^wifi: released ' + wa + ' '),
      new RegExp('^wifi: DHCPRELEASE ' + wa + '$'),
      new RegExp('^esp32: released ' + a + ' '),
      new RegExp('^esp32: DHCPRELEASE ' + a + '$'),
    ];
    let prev = -1;
    for (const re of order) {
      const i = at(re);
      expect(i, 'timeline line ' + re + ' after line ' + prev + ':\n' + lines.join('\n')).toBeGreaterThan(prev);
      prev = i;
    }
    expect(lines.filter((l) => /ARP probe who-has/.test(l)).length).toBe(3);
  });

  it('the same seed replays the same report and the same pcap bytes; the text report names the pcap file', async () => {
    const f1 = path.join(os.tmpdir(), 'slabnet-simcli-r1-' + process.pid + '.pcap');
    const f2 = path.join(os.tmpdir(), 'slabnet-simcli-r2-' + process.pid + '.pcap');
    const ra = await run(['--seed', '8', '--pcap', f1, '--json']);
    const rb = await run(['--seed', '8', '--pcap', f2, '--json']);
    expect(ra.code, ra.err).toBe(0);
    expect(rb.code, rb.err).toBe(0);
    const a = JSON.parse(ra.out);
    const b = JSON.parse(rb.out);
    delete a.wallMs;
    delete b.wallMs;
    delete a.pcap.file;
    delete b.pcap.file;
    expect(b).toEqual(a);
    const pa = fs.readFileSync(f1);
    const pb = fs.readFileSync(f2);
    fs.unlinkSync(f1);
    fs.unlinkSync(f2);
    expect(pa.length).toBeGreaterThan(24 + 16 * 300); // the TCP transfer is in the capture
    expect(Buffer.compare(pa, pb)).toBe(0);
    const file = path.join(os.tmpdir(), 'slabnet-simcli2-' + process.pid + '.pcap');
    const t = await run(['--pcap', file]);
    expect(t.code).toBe(0);
    expect(t.out).toContain('pcap: ' + file);
    expect(t.out).toContain('timeline (virtual ms)');
    expect(t.out).toContain('ARP tables');
    // the TCP part of the text report
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: TCP connect 192\.0\.2\.100:80$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: GET \/bytes\/200000 → 200, 200000 bytes in [\d.]+ ms \([\d.]+ Mbit\/s virtual\)$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: PUT \/upload 100000 bytes → "100000" in [\d.]+ ms$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: TCP closed/m);
    expect(t.out).toContain('  http GET 200000 bytes: ok\n');
    expect(t.out).toContain('  http PUT 100000 bytes: ok\n');
    // esp32: one connection each way; host: one out, three in (the esp32's, the Pico's and the WiFi's GETs by name)
    expect(t.out.match(/^ {4}Tcp: {2}ActiveOpens=1 PassiveOpens=1 /gm)?.length).toBe(1);
    expect(t.out.match(/^ {4}Tcp: {2}ActiveOpens=1 PassiveOpens=3 /gm)?.length).toBe(1);
    // the Pico: the compact stack's counters (its TCP: no RST)
    // (the figures in the board line are the board's compact config)
    const cfgText = (c: { tcbs?: number; tcpBuf?: number; arpSize?: number; udpSocks?: number; udpBuf?: number }): string =>
      `${c.tcbs} TCBs x ${c.tcpBuf} B, ARP ${c.arpSize}, ${c.udpSocks} UDP sockets x ${c.udpBuf} B`;
    const pcfg = espruinoPicoEnc28j60.compact!.config;
    const wcfg = espruinoWifiW5500.compact!.config;
    expect(t.out).toContain(`  pico  192.0.2.101 02:73:6c:c0:01:00  Espruino Pico + ENC28J60  (compact stack, full profile: ${cfgText(pcfg)}, address by DHCP from 192.0.2.1)\n`);
    expect(t.out.match(/^ {4}Tcp: {2}RetransSegs=\d+ OutRsts=0$/gm)?.length).toBe(2);
    expect(t.out).toMatch(/^ {4}Compact: rx=\d+ tx=\d+ .*fragDrop=3 /m);
    expect(t.out).toContain('  dhcp pico: 192.0.2.101/24 from 192.0.2.1: ok (compact stack)\n');
    expect(t.out).toContain('  dns pico www.lan: 192.0.2.1: ok (compact stack)\n');
    expect(t.out).toContain('  http pico GET http://www.lan/bytes/16384: ok (compact TCP)\n');
    expect(t.out).toContain('  ping host -> pico 3000 bytes: dropped and counted as its bundle does (no reassembly)\n');
    expect(t.out).toContain('  dhcp release pico: sent, the server freed the address\n');
    expect(t.out).toContain(`  pico  in use 0/${pcfg.tcbs}; TIME_WAIT 0; SYN_RECV 0\n`);
    // the WiFi: the compact stack too, with its board's compact config
    expect(t.out).toContain(`  wifi  192.0.2.102 02:73:6c:c0:02:00  Espruino WiFi + W5500 (MACRAW)  (compact stack, full profile: ${cfgText(wcfg)}, address by DHCP from 192.0.2.1)\n`);
    expect(t.out).toContain('  dhcp wifi: 192.0.2.102/24 from 192.0.2.1: ok (compact stack)\n');
    expect(t.out).toContain('  dns wifi www.lan: 192.0.2.1: ok (compact stack)\n');
    expect(t.out).toContain('  http wifi GET http://www.lan/bytes/16384: ok (compact TCP)\n');
    expect(t.out).toContain('  udp echo wifi -> pico:7: 3/3\n');
    expect(t.out).toContain('  dhcp release wifi: sent, the server freed the address\n');
    expect(t.out).toMatch(/^\s+[\d.]+\s+wifi: UDP 548 bytes to 192\.0\.2\.101:7 #1$/m);
    expect(t.out).toContain(`  wifi  in use 0/${wcfg.tcbs}; TIME_WAIT 0; SYN_RECV 0\n`);
    expect(t.out).toMatch(/^ {2}wifi +none: the compact stack has one receive and one transmit frame buffer/m);
    expect(t.out).toMatch(/^ {2}tcp +ESTABLISHED +\d+ +\d+ +192\.0\.2\.100:80 /m);
    // DHCP, DNS and the page by name (seed 1: the first address of the pool)
    expect(t.out).toMatch(/^ {2}esp32 192\.0\.2\.100 [0-9a-f:]+ .*address by DHCP from 192\.0\.2\.1\)$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+esp32: DHCPDISCOVER$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: DHCPOFFER 192\.0\.2\.100$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+esp32: bound 192\.0\.2\.100\/24 router 192\.0\.2\.1 dns 192\.0\.2\.1 lease 600 s \(dhcp server 192\.0\.2\.1\)$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+esp32: resolved www\.lan → 192\.0\.2\.1 \(ttl 300 s, via CNAME host\.lan\) in [\d.]+ ms$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+esp32: DHCPRELEASE 192\.0\.2\.100$/m);
    expect(t.out).toContain('  dhcp esp32: 192.0.2.100/24 from 192.0.2.1: ok\n');
    expect(t.out).toContain('  dns esp32 www.lan: 192.0.2.1: ok\n');
    expect(t.out).toContain('  http esp32 GET http://www.lan/bytes/16384: ok\n');
    expect(t.out).toContain('  dhcp release esp32: sent, the server freed the address\n');
    expect(t.out).toMatch(/^ {4}Dhcp: discovers=1 offers=1 requests=1 acks=1 .*releases=1 /m);
    expect(t.out).toMatch(/^ {4}Dns: {2}requests=1 .*resolved=1 failures=0$/m);
    expect(t.out).toMatch(/\nOK: every ping and datagram answered, [^\n]*esp32 leased 192\.0\.2\.100 by DHCP[^\n]*fetched http:\/\/www\.lan\/bytes\/16384 by name[^\n]*every TCB free\n$/);
    expect(t.out).toMatch(/\nOK: [^\n]*pico \(compact stack, full profile\) leased 192\.0\.2\.101 by DHCP[^\n]*fetched http:\/\/www\.lan\/bytes\/16384 over its TCP[^\n]*\n$/);
    expect(t.out).toMatch(/\nOK: [^\n]*wifi \(compact stack, full profile\) leased 192\.0\.2\.102 by DHCP \(released at the end\), resolved www\.lan and fetched http:\/\/www\.lan\/bytes\/16384 over its TCP, [^\n]*\n$/);
    expect(t.out).toMatch(/\nOK: [^\n]*\n$/);
    expect(fs.existsSync(file)).toBe(true);
    fs.unlinkSync(file);
  });

  it('bad flags: usage and exit 2', async () => {
    const r = await run(['--loss', '7']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage');
    expect((await run(['--bogus'])).code).toBe(2);
  });
});
