/**
 * IP addresses and CIDR ranges as numbers, for trusted-proxy and allowlist decisions. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket reports an IPv4 peer)
 * is the IPv4 address, everywhere: otherwise a rule written for `192.0.2.0/24` could be
 * dodged by connecting over IPv6, or an IPv6 rule be matched by an IPv4 client it was not meant for.
 */
import { isIP } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
}

const MAPPED_PREFIX = 0xffffn << 32n;
const V4_MASK = 0xffff_ffffn;

/** Parses an IPv4 or IPv6 address (an IPv6 zone like `%eth0` is dropped); IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  const family = isIP(addr);
  if (family === 4) return { family: 4, value: parseV4(addr) };
  if (family !== 6 || zone === 0) return undefined;
  const value = parseV6(addr);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & V4_MASK };
  return { family: 6, value };
}

function parseV4(addr: string): bigint {
  let v = 0n;
  for (const part of addr.split('.')) v = (v << 8n) | BigInt(Number(part));
  return v;
}

/** `addr` already passed isIP() === 6, so only the shapes it accepts need handling. */
function parseV6(addr: string): bigint {
  let text = addr;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An embedded dotted quad is the last two groups.
    const v4 = parseV4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const groups = (s: string): bigint[] => (s === '' ? [] : s.split(':').map((g) => BigInt(`0x${g}`)));
  const gap = text.indexOf('::');
  const left = groups(gap < 0 ? text : text.slice(0, gap));
  const right = gap < 0 ? [] : groups(text.slice(gap + 2));
  const all = [...left, ...Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  let v = 0n;
  for (const g of all) v = (v << 16n) | g;
  return v;
}

/**
 * Parses `addr` or `addr/prefix`. An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is the IPv4
 * range it covers; host bits are cleared. Undefined when the text is not a valid range.
 */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = text.trim().split('/');
  if (parts.length > 2 || parts[0] === undefined || parts[0].includes('%')) return undefined;
  const family = isIP(parts[0]);
  if (family !== 4 && family !== 6) return undefined;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (parts[1] !== undefined) {
    if (!/^\d{1,3}$/.test(parts[1])) return undefined;
    prefix = Number(parts[1]);
    if (prefix > bits) return undefined;
  }
  const raw = family === 4 ? parseV4(parts[0]) : parseV6(parts[0]);
  if (family === 6 && raw >> 32n === 0xffffn && prefix >= 96) return network(4, raw & V4_MASK, prefix - 96);
  if (family === 6 && prefix < 96 && ((raw & ~((1n << 32n) - 1n)) ^ MAPPED_PREFIX) === 0n) {
    // Written as an IPv4-mapped address but wider than the mapped block: neither an IPv4 nor a
    // sensible IPv6 range, so refused rather than guessed at.
    return undefined;
  }
  return network(family, raw, prefix);
}

function network(family: 4 | 6, value: bigint, prefix: number): Cidr {
  const bits = family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - prefix);
  return { family, base: (value >> hostBits) << hostBits, prefix };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const hostBits = BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefix);
  return ip.value >> hostBits === cidr.base >> hostBits;
}

export function anyCidrContains(cidrs: readonly Cidr[], ip: IpAddress): boolean {
  for (const c of cidrs) if (cidrContains(c, ip)) return true;
  return false;
}

/** Canonical text: dotted quad, or the shortest IPv6 form (RFC 5952). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

/** The canonical client address text of a raw socket/header address (unchanged when unparseable). */
export function canonicalIp(text: string): string {
  // Asked several times per request for the same few peers: remembered, bounded (a flood of
  // distinct addresses only clears the memo, it never grows past the bound).
  const known = canonicalMemo.get(text);
  if (known !== undefined) return known;
  const ip = parseIp(text);
  const canonical = ip === undefined ? text : formatIp(ip);
  if (typeof text !== 'string' || text.length > 64) return canonical;
  if (canonicalMemo.size >= CANONICAL_MEMO_MAX) canonicalMemo.clear();
  canonicalMemo.set(text, canonical);
  return canonical;
}

const CANONICAL_MEMO_MAX = 4096;
const canonicalMemo = new Map<string, string>();
