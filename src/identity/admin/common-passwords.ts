/**
 * Passwords too common to accept, lower-cased (from the usual breach top-lists), plus the
 * word stems people pad to reach a length rule ("password1234"). A long list is not the point:
 * the length rule does most of the work, this refuses the guesses an attacker tries first.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012', '1234567890123', '12345678901234', '123456123456', '111111111111', '000000000000', '123123123123',
  '1q2w3e4r5t6y', 'qwertyuiopas', 'qwertyuiop12', 'qwerty123456', '1qaz2wsx3edc', 'zaq12wsxcde3', 'asdfghjkl123',
  'password1234', 'password123!', 'password12345', 'passwordpassword', 'p@ssw0rd1234', 'p@ssword1234', 'iloveyou1234',
  'letmein12345', 'welcome12345', 'welcome123!!', 'admin1234567', 'administrator', 'administrator1', 'changeme1234',
  'changemenow!', 'trustno11234', 'football1234', 'baseball1234', 'superman1234', 'qwertyqwerty', 'abcdefghijkl',
  'abc123abc123', 'monkey123456', 'dragon123456', 'sunshine1234', 'princess1234', 'starwars1234', 'whatever1234',
  'correcthorsebatterystaple', 'portcullis123', 'portcullis1234', 'portcullis!!', 'letmeinplease', 'masterpassword',
  'secretpassword', 'mypassword123', 'default12345', 'defaultpassword', 'temporary123', 'summer2024!!', 'winter2024!!',
  'spring2025!!', 'autumn2025!!', 'summer2025!!', 'winter2025!!', 'summer2026!!', 'winter2026!!', 'company12345',
]);

/** Stems that, padded with digits or symbols, make a guessable password. */
export const COMMON_STEMS: readonly string[] = [
  'password', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'qwerty', 'letmein', 'welcome', 'admin', 'changeme', 'iloveyou',
  'portcullis', '123456', 'abc123', 'default', 'secret',
];
