import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClientIpResolver } from './client-ip.ts';
import { anyCidrContains, canonicalIp, parseCidr, parseIp } from './ip-address.ts';

describe('ip-address', () => {
  it('treats IPv4-mapped IPv6 as the IPv4 address, in every spelling', () => {
    for (const text of ['::ffff:192.0.2.7', '::FFFF:c000:207', '0:0:0:0:0:ffff:192.0.2.7', '0000::ffff:192.0.2.7']) {
      assert.deepEqual(parseIp(text), parseIp('192.0.2.7'), text);
    }
    assert.equal(canonicalIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  });

  it('matches ranges across families only through the mapping, never by accident', () => {
    const v4 = [parseCidr('192.0.2.0/24')!];
    assert.ok(anyCidrContains(v4, parseIp('::ffff:192.0.2.200')!));
    assert.ok(!anyCidrContains(v4, parseIp('::192.0.2.200')!), 'IPv4-compatible (deprecated) is not IPv4');
    assert.ok(!anyCidrContains(v4, parseIp('64:ff9b::192.0.2.200')!), 'NAT64 is not the IPv4 host');
    assert.ok(!anyCidrContains(v4, parseIp('192.0.3.1')!));
    const mapped = [parseCidr('::ffff:10.0.0.0/104')!];
    assert.ok(anyCidrContains(mapped, parseIp('10.9.9.9')!));
    const v6 = [parseCidr('2001:db8::/32')!];
    assert.ok(anyCidrContains(v6, parseIp('2001:db8:ffff::1')!));
    assert.ok(!anyCidrContains(v6, parseIp('2001:db9::1')!));
    assert.ok(!anyCidrContains([parseCidr('::/0')!], parseIp('192.0.2.1')!), 'an IPv6 range never admits IPv4 clients');
  });

  it('refuses malformed addresses and ranges', () => {
    for (const bad of ['', '1.2.3', '01.2.3.4', '1.2.3.4:80', '[::1]', '1.2.3.4 ', 'localhost', '::g', '%eth0'])
      assert.equal(parseIp(bad), undefined, bad);
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.0/',
      'fe80::%eth0/64',
      '::ffff:1.2.3.4/80',
    ]) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
});

describe('createClientIpResolver', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8', '2001:db8:1::/48']);

  it('uses the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    assert.equal(resolve('203.0.113.9', '198.51.100.1'), '203.0.113.9');
    assert.equal(resolve('::ffff:203.0.113.9', '10.0.0.1'), '203.0.113.9');
  });

  it('walks right to left past trusted hops to the first untrusted address', () => {
    assert.equal(resolve('10.0.0.2', '198.51.100.1'), '198.51.100.1');
    assert.equal(resolve('10.0.0.2', '198.51.100.1, 10.1.1.1, 10.2.2.2'), '198.51.100.1');
    assert.equal(resolve('2001:db8:1::5', '2001:db8:1::6,198.51.100.1'), '198.51.100.1');
  });

  it('ignores what the client wrote left of the address the trusted proxy saw', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
    assert.equal(resolve('10.0.0.2', '1.1.1.1, 198.51.100.7'), '198.51.100.7');
    assert.equal(resolve('10.0.0.2', ['1.1.1.1', '198.51.100.7']), '198.51.100.7');
  });

  it('stops at garbage and keeps the last address it could trust', () => {
    assert.equal(resolve('10.0.0.2', 'not-an-ip'), '10.0.0.2');
    assert.equal(resolve('10.0.0.2', '198.51.100.1, 10.0.0.9:443'), '10.0.0.2');
    assert.equal(resolve('10.0.0.2', '198.51.100.1, unknown, 10.0.0.3'), '10.0.0.3');
  });

  it('falls back to the leftmost hop when every hop is trusted', () => {
    assert.equal(resolve('10.0.0.2', '10.0.0.3, 10.0.0.4'), '10.0.0.3');
    assert.equal(resolve('10.0.0.2', undefined), '10.0.0.2');
  });

  it('trusts nothing without trusted proxies', () => {
    assert.equal(createClientIpResolver([])('127.0.0.1', '198.51.100.1'), '127.0.0.1');
  });

  it('refuses an invalid trusted proxy at construction', () => {
    assert.throws(() => createClientIpResolver(['10.0.0.0/40']), /trusted proxy/);
  });
});
