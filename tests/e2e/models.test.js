// Models, the /api/v1 prefix, model naming flags, and the non-OpenAI endpoints (health, index,
// tokenize, detokenize).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotFoundError } from 'openai';
import { startServer } from './lib/server.js';

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('models and service endpoints', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
  });

  test('models.list returns the served model', async () => {
    const page = await client.models.list();
    const models = [];
    for await (const model of page) models.push(model);
    assert.equal(models.length, 1);
    const [model] = models;
    assert.equal(model.id, server.modelId);
    assert.equal(model.object, 'model');
    assert.equal(typeof model.owned_by, 'string');
    assert.ok(Number.isInteger(model.created));
  });

  test('models.retrieve returns the same model; an unknown id is NotFoundError', async () => {
    const model = await client.models.retrieve(server.modelId);
    assert.equal(model.id, server.modelId);
    assert.equal(model.object, 'model');
    await assert.rejects(client.models.retrieve('no-such-model'), (err) => {
      assert.ok(err instanceof NotFoundError, `got ${err.constructor.name}: ${err.message}`);
      assert.equal(err.status, 404);
      assert.equal(err.type, 'invalid_request_error');
      return true;
    });
  });

  test('the /api/v1 prefix serves the same API', async () => {
    const prefixed = server.client({ baseURL: `${server.origin}/api/v1` });
    const page = await prefixed.models.list();
    assert.deepEqual(page.data.map((m) => m.id), [server.modelId]);
    const req = { model: server.modelId, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, temperature: 0 };
    const viaPrefix = await prefixed.chat.completions.create(req);
    const viaV1 = await client.chat.completions.create(req);
    assert.equal(viaPrefix.object, 'chat.completion');
    assert.equal(viaPrefix.choices[0].message.content, viaV1.choices[0].message.content);
    const emb = await prefixed.embeddings.create({ model: server.modelId, input: 'hi' });
    assert.equal(emb.data.length, 1);
  });

  test('GET /health reports ok and the model', async () => {
    const res = await server.fetch('/health');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const body = await res.json();
    assert.equal(body.status, 'ok');
    assert.ok(body.models.some((m) => m.id === server.modelId));
  });

  test('GET / describes the service', async () => {
    const res = await server.fetch('/');
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.name, 'inferd');
    assert.ok(body.models.includes(server.modelId));
    assert.ok(body.endpoints.includes('POST /v1/chat/completions'));
  });

  test('tokenize and detokenize round-trip', async () => {
    const text = 'Hello, world! 123';
    const tok = await server.fetch('/tokenize', json({ content: text }));
    assert.equal(tok.status, 200);
    const { tokens } = await tok.json();
    assert.ok(tokens.length > 1 && tokens.every(Number.isInteger));
    const detok = await server.fetch('/detokenize', json({ tokens }));
    assert.equal(detok.status, 200);
    const { content } = await detok.json();
    assert.ok(content.endsWith(text), `detokenized ${JSON.stringify(content)}`);
  });
});

describe('model naming flags', () => {
  let server;
  before(async () => {
    server = await startServer(['--model-id', 'e2e-model', '--alias', 'e2e-alias', '--api-prefix', '/custom/v1']);
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
  });

  test('--model-id names the model and --alias reaches it', async () => {
    assert.equal(server.modelId, 'e2e-model');
    const client = server.client();
    assert.equal((await client.models.retrieve('e2e-alias')).id, 'e2e-model');
    const res = await client.chat.completions.create({
      model: 'e2e-alias', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1,
    });
    assert.equal(res.choices.length, 1);
  });

  test('--api-prefix replaces /api/v1', async () => {
    const custom = server.client({ baseURL: `${server.origin}/custom/v1` });
    assert.deepEqual((await custom.models.list()).data.map((m) => m.id), ['e2e-model']);
    const res = await server.fetch('/api/v1/models');
    assert.equal(res.status, 404);
  });
});
