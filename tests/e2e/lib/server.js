// Starts an `inferd serve` process for one test file and stops it afterwards.
//
// Environment:
//   INFERD_BIN        the inferd binary (default: build/release/apps/inferd/inferd in the repository)
//   INFERD_E2E_MODEL  a GGUF model to serve (default: none, so the server's built-in random-weight
//                     demo model; the fixture models under ../shared/fixtures carry no chat template)
//   INFERD_E2E_THREADS engine threads (default 2)
//
// Contract: startServer() resolves once GET /health answers 200 and the served model id is known;
// it rejects with the server's log when the binary is missing, the process exits early, or health
// does not turn 200 within the start timeout. stop() sends SIGTERM and resolves with the exit code.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const here = path.dirname(fileURLToPath(import.meta.url));
export const e2eDir = path.resolve(here, '..');
export const repoRoot = path.resolve(e2eDir, '../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export function serverBinary() {
  const bin = process.env.INFERD_BIN
    ? path.resolve(process.env.INFERD_BIN)
    : path.join(repoRoot, 'build/release/apps/inferd/inferd');
  if (!existsSync(bin)) {
    throw new Error(
      `inferd binary not found at ${bin}: build it first (cmake --preset release && ` +
        `cmake --build --preset release) or point INFERD_BIN at it`,
    );
  }
  return bin;
}

// The model argument list: [] serves the demo model.
export function modelArgs() {
  const model = process.env.INFERD_E2E_MODEL;
  if (!model) return [];
  const resolved = path.isAbsolute(model) ? model : path.resolve(process.cwd(), model);
  if (!existsSync(resolved)) {
    throw new Error(`INFERD_E2E_MODEL=${model}: no such file (${resolved})`);
  }
  return ['--model', resolved];
}

// A port that was free a moment ago (the server cannot report an ephemeral port to us).
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Server {
  constructor(child, port, apiKey) {
    this.child = child;
    this.port = port;
    this.apiKey = apiKey;
    this.origin = `http://127.0.0.1:${port}`;
    this.baseURL = `${this.origin}/v1`;
    this.modelId = null;
    this.log = '';
    this.exitCode = undefined;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? signal;
        resolve(this.exitCode);
      });
      child.on('error', (err) => {
        this.log += `cannot run ${child.spawnfile}: ${err.message}\n`;
        this.exitCode ??= 'spawn error';
        resolve(this.exitCode);
      });
    });
    child.stdout.on('data', (d) => (this.log += d));
    child.stderr.on('data', (d) => (this.log += d));
  }

  // An OpenAI client for this server; extra options override the defaults.
  client(options = {}) {
    return new OpenAI({ baseURL: this.baseURL, apiKey: this.apiKey ?? 'none', maxRetries: 0, timeout: 60_000, ...options });
  }

  // Plain fetch against the server root (for requests the SDK cannot express).
  fetch(pathname, init) {
    return fetch(`${this.origin}${pathname}`, init);
  }

  async waitReady() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`inferd exited (${this.exitCode}) before it was ready:\n${this.log}`);
      }
      try {
        const res = await fetch(`${this.origin}/health`);
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) {
          const headers = this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {};
          const models = await (await fetch(`${this.baseURL}/models`, { headers })).json();
          this.modelId = models.data[0].id;
          return;
        }
      } catch (err) {
        last = String(err.cause ?? err);
      }
      await sleep(50);
    }
    throw new Error(`inferd not ready after ${START_TIMEOUT_MS} ms (last /health: ${last}):\n${this.log}`);
  }

  async stop() {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exitCode;
  }
}

// Servers of this process die with it, however it ends (a test run interrupted by Ctrl-C, a
// closed pipe, a runner that gives up on the file).
const children = new Set();
let exitHooked = false;
function killOnExit(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
    });
  }
}

// Starts a server with the model from the environment and `extraArgs` appended. With access
// control on, `apiKey` is a key the server accepts (for readiness and client()).
export async function startServer(extraArgs = [], { apiKey } = {}) {
  const bin = serverBinary();
  const threads = process.env.INFERD_E2E_THREADS ?? '2';
  let lastError;
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const args = ['serve', ...modelArgs(), '--host', '127.0.0.1', '--port', String(port), '--threads', threads, ...extraArgs];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new Server(child, port, apiKey);
    killOnExit(child);
    try {
      await server.waitReady();
      return server;
    } catch (err) {
      lastError = err;
      await server.stop();
      // Another process may have taken the port between the probe and the bind: retry then only.
      if (!/address already in use|bind/i.test(server.log)) break;
    }
  }
  throw lastError;
}
