// test/interop/corrupt.mjs — negative control for run.sh's tshark check:
// copies the first IPv4 frame sent by MAC from a classic pcap (slabnet's
// --pcap) into a new pcap twice, once with its IP header checksum broken
// and once with its last payload byte flipped (breaking the ICMP/UDP
// checksum). The checker must flag both.
// With a 4th argument "tcp" it takes the first TCP segment carrying data
// instead (the payload flip breaks the TCP checksum).
// usage: node corrupt.mjs IN.pcap MAC OUT.pcap [tcp]   (exit 1 when no frame found)
import { readFileSync, writeFileSync } from 'node:fs';

const [inFile, macStr, outFile, kind] = process.argv.slice(2);
const wantTcp = kind === 'tcp';
const mac = Buffer.from(macStr.split(':').map((h) => parseInt(h, 16)));
const b = readFileSync(inFile);
if (b.readUInt32LE(0) !== 0xa1b2c3d4 && b.readUInt32LE(0) !== 0xa1b23c4d) {
  console.error('corrupt.mjs: not a little-endian classic pcap');
  process.exit(1);
}
let o = 24;
let frame = null;
let hdr = null;
while (o + 16 <= b.length) {
  const incl = b.readUInt32LE(o + 8);
  const f = b.subarray(o + 16, o + 16 + incl);
  // from slabnet, IPv4, ICMP or UDP, not a fragment (so the transport checksum is checkable)
  const ihl = (f[14] & 15) * 4;
  const l4ok = wantTcp
    ? f[23] === 6 && f.length > 14 + ihl + 20 && f.readUInt16BE(16) > ihl + (f[14 + ihl + 12] >> 4) * 4
    : f[23] === 1 || f[23] === 17;
  if (f.length > 34 && f.subarray(6, 12).equals(mac) && f.readUInt16BE(12) === 0x0800 &&
      l4ok && (f.readUInt16BE(20) & 0x3fff) === 0) {
    frame = Buffer.from(f);
    hdr = Buffer.from(b.subarray(o, o + 16));
    break;
  }
  o += 16 + incl;
}
if (frame === null) {
  console.error('corrupt.mjs: no unfragmented IPv4 ' + (wantTcp ? 'TCP data' : 'ICMP/UDP') + ' frame from ' + macStr);
  process.exit(1);
}
const badIp = Buffer.from(frame);
badIp[24] ^= 0x5a; // IP header checksum
const badL4 = Buffer.from(frame);
badL4[badL4.length - 1] ^= 0xff; // payload byte: transport checksum no longer matches
if (badL4[23] === 17 && badL4.readUInt16BE(40) === 0) badL4.writeUInt16BE(1, 40); // UDP without checksum: give it a wrong one
writeFileSync(outFile, Buffer.concat([b.subarray(0, 24), hdr, badIp, hdr, badL4]));
