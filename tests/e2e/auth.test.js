// Access control seen by the official client: API keys made with `inferd keys`, the SDK's typed
// errors for a wrong key (401), a missing scope (403) and a spent rate limit (429 with its
// headers), and a streamed answer with a valid key.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { serverBinary, startServer } from './lib/server.js';

describe('access control', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inferd-e2e-keys-'));
  const store = `sqlite:${path.join(dir, 'keys.db')}`;
  const makeKey = (...args) =>
    execFileSync(serverBinary(), ['keys', 'create', '--store', store, ...args], { encoding: 'utf8' }).trim();
  let server;
  let keys;

  before(async () => {
    keys = {
      vista: makeKey('--service', 'vista', '--prefix', 'vista_'),
      sessionsOnly: makeKey('--service', 'data', '--scopes', 'sessions'),
      limited: makeKey('--service', 'voice', '--rpm', '2'),
    };
    server = await startServer(['--keys-store', store], { apiKey: keys.vista });
  });
  after(async () => {
    if (server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a valid key lists models and streams a chat completion', async () => {
    assert.match(keys.vista, /^vista_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    const client = server.client();
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === server.modelId));
    const stream = await client.chat.completions.create({
      model: server.modelId,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4,
      stream: true,
    });
    let chunks = 0;
    for await (const chunk of stream) chunks += chunk.choices.length > 0 ? 1 : 0;
    assert.ok(chunks > 0);
  });

  test('a wrong key is an AuthenticationError', async () => {
    // Change the last character to another one (a key may well end in 'x' already).
    const last = keys.vista.at(-1) === 'x' ? 'y' : 'x';
    const client = server.client({ apiKey: `${keys.vista.slice(0, -1)}${last}` });
    await assert.rejects(client.models.list(), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
    const anonymous = await server.fetch('/v1/models');
    assert.equal(anonymous.status, 401);
    assert.equal((await server.fetch('/health')).status, 200);
  });

  test('a key without the inference scope is a PermissionDeniedError', async () => {
    const client = server.client({ apiKey: keys.sessionsOnly });
    await assert.rejects(
      client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      (err) => err instanceof OpenAI.PermissionDeniedError && err.status === 403,
    );
  });

  test('a spent rate limit is a RateLimitError with Retry-After', async () => {
    const client = server.client({ apiKey: keys.limited });
    const first = await client.models.list().withResponse();
    assert.equal(first.response.headers.get('x-ratelimit-limit'), '2');
    await client.models.list();
    await assert.rejects(client.models.list(), (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.ok(Number(err.headers.get('retry-after')) >= 1);
      assert.equal(err.headers.get('x-ratelimit-remaining'), '0');
      return true;
    });
  });
});
