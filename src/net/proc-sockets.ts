// What /proc says about an inherited descriptor (Linux): whether it is a listening socket, and where.
import { readFileSync, readlinkSync } from 'node:fs'

/**
 * FastCGI spec §2.2 (FCGI_LISTENSOCK_FILENO): is `fd` a *listening* socket? A connected socket is not:
 * Apache mod_cgid hands CGI scripts a connected Unix socket on fd 0, so "fd 0 is a socket" (what
 * node-fastcgi checks) would mistake every mod_cgid request for FastCGI. libfcgi and PHP call
 * getpeername() and look for ENOTCONN; Node has no getpeername on a raw fd, so read /proc on Linux.
 */
export function isListeningSocket(fd = 0): boolean {
  const inode = socketInode(fd)
  if (inode === undefined) return false
  return unixRow(inode)?.listening === true || tcpRow(inode)?.listening === true
}

/** Where an inherited socket listens, for the log: its path, `host:port`, or `fd:N` when /proc cannot tell. */
export function inheritedAddress(fd: number): string {
  const inode = socketInode(fd)
  const unix = inode === undefined ? undefined : unixRow(inode)
  if (unix?.path) return unix.path
  const tcp = inode === undefined ? undefined : tcpRow(inode)
  return tcp?.address ?? `fd:${fd}`
}

function socketInode(fd: number): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1]
  } catch {
    return undefined
  }
}

function unixRow(inode: string): { listening: boolean; path: string | undefined } | undefined {
  // /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 = __SO_ACCEPTCON.
  for (const line of readProc('/proc/net/unix')) {
    const cols = line.trim().split(/\s+/)
    if (cols[6] === inode) return { listening: (parseInt(cols[3] ?? '0', 16) & 0x10000) !== 0, path: cols[7] }
  }
  return undefined
}

function tcpRow(inode: string): { listening: boolean; address: string } | undefined {
  // /proc/net/tcp{,6}: column 1 local address (hex IP:port), column 3 "st" (0A is LISTEN), column 9 the inode.
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readProc(file)) {
      const cols = line.trim().split(/\s+/)
      if (cols[9] === inode) return { listening: cols[3] === '0A', address: hexAddress(cols[1] ?? '') }
    }
  }
  return undefined
}

/** `0100007F:2328` is 127.0.0.1:9000 (IPv4 in host byte order); IPv6 is shown as [hex]:port. */
function hexAddress(text: string): string {
  const [ip = '', port = '0'] = text.split(':')
  const portNumber = Number.parseInt(port, 16)
  if (ip.length !== 8) return `[${ip}]:${portNumber}`
  const bytes = (ip.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)).reverse()
  return `${bytes.join('.')}:${portNumber}`
}

function readProc(file: string): string[] {
  try {
    return readFileSync(file, 'latin1').split('\n').slice(1)
  } catch {
    return []
  }
}
