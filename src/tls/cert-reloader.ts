/**
 * Certificate hot reload: watches the certificate, key and client-CA files and swaps the
 * listener's secure context when they change. Open connections keep the context they were
 * made with; new handshakes get the new one, so nothing is dropped. A replacement that does
 * not load (half-written, mismatched, expired, over-shared key) is refused with an error log
 * and the previous certificate stays in service: the listener never serves nothing.
 *
 * Folders are watched, not files: tools that replace a certificate by renaming a new file
 * over the old one (certbot, Kubernetes secret mounts) would end a watch on the file itself.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../observability/logger.ts';
import type { ServerTlsConfig } from './config-types.ts';
import { loadSecureContextOptions } from './server-options.ts';

export interface CertReloader {
  /** Loads the files now; true when the new context is in service. */
  reload(): boolean;
  /** Fingerprint (SHA-256) of the certificate in service. */
  current(): string;
  close(): void;
}

export interface CertReloaderOptions {
  readonly server: TlsServer;
  readonly cfg: ServerTlsConfig;
  readonly log: Logger;
  /** Fingerprint of the certificate the listener started with. */
  readonly initialFingerprint: string;
  /** Writes come in bursts (cert, then key); wait this long after the last event. */
  readonly debounceMs?: number;
}

export function createCertReloader(opts: CertReloaderOptions): CertReloader {
  const { server, cfg, log } = opts;
  const debounceMs = opts.debounceMs ?? 300;
  let fingerprint = opts.initialFingerprint;
  let timer: NodeJS.Timeout | undefined;
  let watchers: FSWatcher[] = [];

  const reload = (): boolean => {
    try {
      const loaded = loadSecureContextOptions(cfg);
      if (loaded.pair.fingerprint256 === fingerprint && cfg.clientAuth === 'none') return true;
      server.setSecureContext(loaded.context);
      const previous = fingerprint;
      fingerprint = loaded.pair.fingerprint256;
      log.info(
        { event: 'tls.certificate_reloaded', fingerprint256: fingerprint, previous, validTo: loaded.pair.validTo },
        'TLS certificate reloaded; new connections use it',
      );
      return true;
    } catch (err) {
      log.error(
        {
          event: 'tls.certificate_reload_refused',
          reason: err instanceof Error ? err.message : String(err),
          fingerprint256: fingerprint,
        },
        'refused to reload the TLS certificate; still serving the previous one',
      );
      return false;
    }
  };

  const files = [
    cfg.certFile,
    cfg.keyFile,
    ...(cfg.clientAuth !== 'none' && cfg.clientCaFile !== undefined ? [cfg.clientCaFile] : []),
  ];
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const set = byDir.get(dirname(f)) ?? new Set<string>();
    set.add(basename(f));
    byDir.set(dirname(f), set);
  }
  const schedule = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, debounceMs);
    timer.unref();
  };
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms give no name; a change of unknown origin is worth one reload attempt.
        // Kubernetes swaps a `..data` symlink, so any dot-entry counts too.
        if (name === null || names.has(name.toString()) || name.toString().startsWith('..')) schedule();
      });
      w.on('error', (err) =>
        log.error(
          { event: 'tls.watch_failed', dir, reason: err.message },
          'stopped watching TLS files; restart to pick up new certificates',
        ),
      );
      watchers.push(w);
    } catch (err) {
      log.error(
        { event: 'tls.watch_failed', dir, reason: err instanceof Error ? err.message : String(err) },
        'cannot watch TLS files; certificates will not be reloaded',
      );
    }
  }

  return {
    reload,
    current: () => fingerprint,
    close() {
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}
