/*
 * errno.ts — negative errno-style return codes (Linux values), as the kernel
 * returns them. Every fallible call on the stack's API returns a number:
 * >= 0 for success (often a byte count or handle), -E* for failure.
 * Nothing on the hot path throws.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOSPC = 28;
export const EPIPE = 32;
export const EDESTADDRREQ = 89;
export const EMSGSIZE = 90;
export const EPROTOTYPE = 91;
export const ENOPROTOOPT = 92;
export const EPROTONOSUPPORT = 93;
export const EOPNOTSUPP = 95;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETDOWN = 100;
export const ENETUNREACH = 101;
export const ECONNABORTED = 103;
export const ECONNRESET = 104;
export const ENOBUFS = 105;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EHOSTDOWN = 112;
export const EHOSTUNREACH = 113;
export const EALREADY = 114;
export const EINPROGRESS = 115;

/** Name of an errno (positive or negative), for messages. Allocates: not for the hot path. */
export function errnoName(e: number): string {
  const v = e < 0 ? -e : e;
  switch (v) {
    case EPERM: return 'EPERM';
    case ENOENT: return 'ENOENT';
    case EINTR: return 'EINTR';
    case EIO: return 'EIO';
    case EBADF: return 'EBADF';
    case EAGAIN: return 'EAGAIN';
    case ENOMEM: return 'ENOMEM';
    case EACCES: return 'EACCES';
    case EFAULT: return 'EFAULT';
    case EBUSY: return 'EBUSY';
    case EEXIST: return 'EEXIST';
    case ENODEV: return 'ENODEV';
    case EINVAL: return 'EINVAL';
    case ENFILE: return 'ENFILE';
    case EMFILE: return 'EMFILE';
    case ENOSPC: return 'ENOSPC';
    case EPIPE: return 'EPIPE';
    case EDESTADDRREQ: return 'EDESTADDRREQ';
    case EMSGSIZE: return 'EMSGSIZE';
    case EPROTOTYPE: return 'EPROTOTYPE';
    case ENOPROTOOPT: return 'ENOPROTOOPT';
    case EPROTONOSUPPORT: return 'EPROTONOSUPPORT';
    case EOPNOTSUPP: return 'EOPNOTSUPP';
    case EAFNOSUPPORT: return 'EAFNOSUPPORT';
    case EADDRINUSE: return 'EADDRINUSE';
    case EADDRNOTAVAIL: return 'EADDRNOTAVAIL';
    case ENETDOWN: return 'ENETDOWN';
    case ENETUNREACH: return 'ENETUNREACH';
    case ECONNABORTED: return 'ECONNABORTED';
    case ECONNRESET: return 'ECONNRESET';
    case ENOBUFS: return 'ENOBUFS';
    case EISCONN: return 'EISCONN';
    case ENOTCONN: return 'ENOTCONN';
    case ETIMEDOUT: return 'ETIMEDOUT';
    case ECONNREFUSED: return 'ECONNREFUSED';
    case EHOSTDOWN: return 'EHOSTDOWN';
    case EHOSTUNREACH: return 'EHOSTUNREACH';
    case EALREADY: return 'EALREADY';
    case EINPROGRESS: return 'EINPROGRESS';
  }
  return 'E' + v;
}
