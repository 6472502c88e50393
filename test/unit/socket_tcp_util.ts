/*
 * socket_tcp_util.ts — fixtures for the SOCK_STREAM socket-API, net and
 * NetworkJS tests: close every fd the test left open, run TIME_WAIT and
 * all TCP timers out, and assert the fd table, the TCB table and the skb
 * pool are empty. Not a test file.
 */
import { expect } from 'vitest';
import { Stack } from '../../src/stack';
import { close } from '../../src/socket/socket';
import { SS_OPEN } from '../../src/socket/sock';
import { TEnv, expectClean } from './tcp_util';

/** Close every open fd on st (any type). */
export function closeAllFds(st: Stack): void {
  const s = st.sock;
  for (let fd = 0; fd < s.max; fd++) if (s.state[fd] === SS_OPEN) close(st, fd);
}

/** Close every fd on both stacks, let TCP finish, and check that nothing is left. */
export function expectAllClean(e: TEnv): void {
  closeAllFds(e.a);
  closeAllFds(e.b);
  expectClean(e);
  expect(e.a.sock.open).toBe(0);
  expect(e.b.sock.open).toBe(0);
}

/** Open fds on st (for assertions that a facade closed its sockets itself). */
export function openFds(st: Stack): number {
  return st.sock.open;
}
