// test/interop/bridgectl.mjs — sends control commands to bridge.mjs (--ctl
// PORT on 127.0.0.1), one datagram each, all at once, and prints each reply
// on its own line in the order the commands were given (`timeout` for a
// command with no reply within 2 s). For hostile.sh: 50 blackholes in one go.
// usage: node bridgectl.mjs PORT COMMAND...     exit 1 when a reply is not "ok ..."
import dgram from 'node:dgram';

const [portA, ...cmds] = process.argv.slice(2);
const port = Number(portA);
if (!(port > 0) || cmds.length === 0) {
  console.error('usage: node bridgectl.mjs PORT COMMAND...');
  process.exit(2);
}
// one socket per command: the bridge answers the sender, so each reply is matched to its command
const replies = new Array(cmds.length).fill('timeout');
let left = cmds.length;
const socks = cmds.map((cmd, i) => {
  const s = dgram.createSocket('udp4');
  s.on('message', (m) => {
    if (replies[i] === 'timeout') left--;
    replies[i] = m.toString();
    if (left === 0) finish();
  });
  s.send(cmd, port, '127.0.0.1');
  return s;
});
const timer = setTimeout(finish, 2000);
function finish() {
  clearTimeout(timer);
  for (const s of socks) s.close();
  console.log(replies.join('\n'));
  process.exit(replies.every((r) => r.startsWith('ok')) ? 0 : 1);
}
