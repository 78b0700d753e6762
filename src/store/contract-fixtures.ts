/** Sample records for the store contract suite (and any test that needs a plausible record). */
import type { ApiKeyRecord, RequestRecord } from './store.ts';

let counter = 0;

export function sampleRequestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  counter++;
  return {
    id: `req_${counter.toString().padStart(6, '0')}_${Math.random().toString(36).slice(2, 8)}`,
    time: '2024-05-01T10:00:00.000Z',
    tenantId: 'tenant-a',
    keyId: 'key-1',
    surface: 'openai',
    operation: 'chat',
    model: 'gpt-4o',
    provider: 'openai',
    targetModel: 'gpt-4o-2024-08-06',
    status: 200,
    errorCode: null,
    stream: false,
    latencyMs: 123,
    attempts: 1,
    promptTokens: 10,
    completionTokens: 20,
    totalTokens: 30,
    teamId: null,
    userId: null,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    costMicros: 14,
    priceVersion: 'builtin-2026-11-01',
    usageEstimated: false,
    guardDetectors: null,
    decisionInputs: null,
    policyVersion: null,
    ...overrides,
  };
}

export function sampleApiKeyRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  counter++;
  const n = counter.toString(16).padStart(8, '0');
  return {
    id: `key_${n}`,
    tenantId: 'tenant-a',
    label: `key ${n}`,
    prefix: `pcl_${n}`,
    hash: n.repeat(8),
    allowedModels: ['gpt-4o'],
    createdAt: '2024-05-01T10:00:00.000Z',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    teamId: null,
    ownerUserId: null,
    createdBy: null,
    ipAllowlist: [],
    allowedEndpoints: null,
    readOnly: false,
    rotatedFrom: null,
    ...overrides,
  };
}

/** `2024-05-01T10:00:00.000Z` plus `minutes`. */
export function minutesAfterBase(minutes: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, 0) + minutes * 60_000).toISOString();
}
