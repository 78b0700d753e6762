/**
 * The network an address belongs to for "new network" detection: IPv4 /24, IPv6 /48
 * (IPv4-mapped IPv6 counts as IPv4). Addresses within one such network usually belong to the
 * same site or provider allocation, so a move inside it is not news.
 */
import { isIP } from 'node:net';

export function networkOf(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped?.[1] ?? address;
  const family = isIP(ip);
  if (family === 4) {
    const last = ip.lastIndexOf('.');
    return `${ip.slice(0, last)}.0/24`;
  }
  if (family === 6) {
    const groups = expandIpv6(ip.split('%')[0]!);
    if (groups === undefined) return undefined;
    return `${groups
      .slice(0, 3)
      .map((g) => g.toString(16))
      .join(':')}::/48`;
  }
  return undefined;
}

function expandIpv6(ip: string): number[] | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] =>
    s === ''
      ? []
      : s.split(':').flatMap((g) => {
          // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first three groups matter here.
          if (g.includes('.')) return [0, 0];
          return [Number.parseInt(g, 16)];
        });
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
