// Starts the real `parley` binary for tests: a loopback port picked by the server (--port 0),
// a fresh data folder, demo data on. `restart()` stops it with SIGTERM and starts it again on
// the same port and data folder. Every process started here is killed when the test process
// exits, even after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface DemoCredentials {
  app_id: string;
  api_key: string;
  api_secret: string;
}

export interface StartOptions {
  /** Extra `parley serve` flags, e.g. ['--resume-max-messages', '5']. */
  args?: string[];
  /** Serve the built web app from this folder (default: none). */
  webDir?: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export function parleyBinary(): string {
  const bin = process.env.PARLEY_BIN ?? join(repoRoot, 'build', 'parley');
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: build the server first (scripts/build.sh)`);
  return bin;
}

export class ParleyProcess {
  port = 0;
  readonly dataDir: string;
  readonly adminKey = `adm_test_${randomBytes(16).toString('hex')}`;
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(private readonly opts: StartOptions) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  }

  static async start(opts: StartOptions = {}): Promise<ParleyProcess> {
    const p = new ParleyProcess(opts);
    try {
      await p.spawn(0);
    } catch (e) {
      p.cleanup();
      throw e;
    }
    return p;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The demo app's credentials, kept by the server in its data folder. */
  demo(): DemoCredentials {
    return JSON.parse(readFileSync(join(this.dataDir, 'demo-credentials.json'), 'utf8')) as DemoCredentials;
  }

  /** What the server printed (stdout and stderr), for failure messages. */
  log(): string {
    return this.output;
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  }

  /** Stops the server and starts it again on the same port and data folder. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn(this.port);
  }

  /** Stops the server and removes its data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    this.cleanup();
  }

  private cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private spawn(port: number): Promise<void> {
    const args = [
      'serve',
      '--host', '127.0.0.1',
      '--port', String(port),
      '--data-dir', this.dataDir,
      '--log-level', 'warn',
      '--access-log', 'false',
      '--admin-key', this.adminKey,
      '--web-dir', this.opts.webDir ?? join(this.dataDir, 'no-web'),
      // Every test talks from 127.0.0.1: the per-IP limit would throttle the suite, not a client.
      '--rate-limit-ip-per-sec', '10000',
      '--rate-limit-ip-burst', '10000',
      // Bounds how long a SIGTERM may wait for in-flight requests: keeps restarts quick.
      '--shutdown-grace-ms', '300',
      ...(this.opts.args ?? []),
    ];
    const child = spawn(parleyBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
    live.add(child);
    this.child = child;
    return new Promise<void>((resolvePort, reject) => {
      let stdout = '';
      let settled = false;
      const timer = setTimeout(() => fail(new Error('parley did not print its port within 20 s')), 20_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        live.delete(child);
        this.child = undefined;
        reject(new Error(`${e.message}\n--- parley output ---\n${this.output}`));
      };
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        this.output += chunk;
        stdout += chunk;
        const m = /parley listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (m && this.port !== Number(m[1])) this.port = Number(m[1]);
        if (m && !settled) {
          settled = true;
          clearTimeout(timer);
          resolvePort();
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        this.output += chunk;
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        fail(new Error(`parley exited (code ${code}, signal ${signal}) before listening`));
      });
    });
  }
}

/** Polls `check` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
