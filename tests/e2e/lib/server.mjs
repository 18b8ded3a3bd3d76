// Starts and stops the Marquee binary for the browser tests:
// `${MARQUEE_BIN:-../../bin/marquee} dev --data-dir <dir> --addr 127.0.0.1:0`,
// reading the portal URL from its stdout.

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function marqueeBin() {
  return resolve(here, '..', process.env.MARQUEE_BIN || '../../bin/marquee');
}

/**
 * Starts `marquee dev`. Resolves to { url, child, output(), stop() }.
 * `env` is added to this process's environment.
 */
// embeddedEnv is this process's environment without DATABASE_URL and
// REDIS_URL: `make test` exports them for the Go suites, and `marquee dev`
// would otherwise run on that shared database instead of its own embedded
// one, against the rule that every test gets its own database.
export function embeddedEnv() {
  const { DATABASE_URL, REDIS_URL, ...rest } = process.env;
  return rest;
}

export function startServer({ dataDir, env = {}, timeoutMs = 90_000 } = {}) {
  const bin = marqueeBin();
  return new Promise((resolveServer, reject) => {
    const child = spawn(bin, ['dev', '--data-dir', dataDir, '--addr', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...embeddedEnv(), ...env },
    });
    let out = '';
    let found = false;
    const timer = setTimeout(() => fail(new Error(`no portal URL on stdout within ${timeoutMs / 1000}s`)), timeoutMs);
    function fail(err) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      err.message += `\n--- ${bin} output ---\n${out.slice(-4000)}`;
      reject(err);
    }
    child.on('error', (err) => fail(err));
    child.on('exit', (code, signal) => { if (!found) fail(new Error(`${bin} exited early (code ${code}, signal ${signal})`)); });
    const keep = (d) => { out += d; if (out.length > 200_000) out = out.slice(-100_000); };
    child.stderr.on('data', keep);
    child.stdout.on('data', (d) => {
      keep(d);
      const m = !found && out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolveServer({ url: m[0], child, output: () => out, stop: () => stopServer(child) });
      }
    });
  });
}

export async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 10_000, 'timeout'));
  if (await Promise.race([exited, timeout]) === 'timeout') child.kill('SIGKILL');
}

/** The Chromium launch options both browser tests use. */
export const chromiumOptions = () => ({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
