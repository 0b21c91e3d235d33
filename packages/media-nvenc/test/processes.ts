import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What Linux's /proc says about processes and their sockets, for tests that check which processes
 * a media app runs, what they bind, and that none outlives the app.
 */

/** A process: its id and its command name (`comm`, at most 15 characters). */
export interface Proc {
  readonly pid: number;
  readonly comm: string;
}

/** `/proc/<pid>/stat` split after the command name (which may hold spaces), or undefined if gone. */
function stat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const [state = '', ppid = '0'] = text.slice(close + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running (a zombie waiting for its reaper counts as gone). */
export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z';
}

/** Every live descendant of `pid` (children, their children…). */
export function descendants(pid: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const s = stat(child);
    if (!s || s.state === 'Z') continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), { pid: child, comm: s.comm }]);
  }
  const out: Proc[] = [];
  const visit = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      visit(c.pid);
    }
  };
  visit(pid);
  return out;
}

/** A socket a process holds: protocol, local address and port, and whether it is a TCP listener. */
export interface ProcSocket {
  readonly proto: 'udp' | 'udp6' | 'tcp' | 'tcp6';
  readonly address: string;
  readonly port: number;
  readonly listening: boolean;
}

/** `0100007F` → `127.0.0.1`; 32 hex digits → an IPv6 address (`::`, `::1` and v4-mapped shortened). */
function decodeAddress(hex: string): string {
  const bytes: number[] = [];
  // The kernel prints each 32-bit word in host (little-endian) order.
  for (let w = 0; w < hex.length; w += 8)
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(hex.slice(w + b, w + b + 2), 16));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** The UDP and TCP sockets `pid` holds open, from its file descriptors and /proc/net. */
export function socketsOf(pid: number): ProcSocket[] {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: ProcSocket[] = [];
  for (const proto of ['udp', 'udp6', 'tcp', 'tcp6'] as const) {
    let table = '';
    try {
      table = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [addr = '', port = '0'] = f[1]!.split(':');
      out.push({
        proto,
        address: decodeAddress(addr),
        port: Number.parseInt(port, 16),
        listening: proto.startsWith('tcp') && f[3] === '0A',
      });
    }
  }
  return out;
}

/** True for 127.0.0.0/8, `::1` and v4-mapped loopback. */
export const isLoopback = (address: string): boolean => /^(::ffff:)?127\./.test(address) || address === '::1';

/** Polls `check` every 25 ms until it holds or `ms` have passed; the last answer. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
