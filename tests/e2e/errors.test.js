// Error responses: the OpenAI error envelope, status codes, and the openai client's error classes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { APIError, BadRequestError, NotFoundError } from 'openai';
import { startServer } from './lib/server.js';

const user = [{ role: 'user', content: 'hi' }];

// Checks an OpenAI error envelope: {"error": {"message", "type", "param", "code"}}.
async function assertEnvelope(res, status, { param = null, code } = {}) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  const { error } = body;
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.equal(typeof error.type, 'string');
  assert.ok('param' in error && 'code' in error, 'param and code are present, null when unset');
  assert.equal(error.param, param);
  if (code !== undefined) assert.equal(error.code, code);
  return error;
}

// An assert.rejects validator for an SDK error of `cls` with the given fields.
function sdkError(cls, status, fields = {}) {
  return (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, status);
    for (const [key, value] of Object.entries(fields)) assert.equal(err[key], value, `error.${key}`);
    assert.equal(typeof err.error?.message, 'string');
    return true;
  };
}

describe('errors at the default context size', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
  });

  test('a body that is not JSON is 400 with the error envelope', async () => {
    const res = await server.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "x", "messages": [',
    });
    const error = await assertEnvelope(res, 400);
    assert.equal(error.type, 'invalid_request_error');
  });

  test('a JSON body that is not an object is 400', async () => {
    const res = await server.fetch('/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1, 2]',
    });
    await assertEnvelope(res, 400);
  });

  test('an unknown model is NotFoundError (404, param model, code model_not_found)', async () => {
    const fields = { param: 'model', code: 'model_not_found', type: 'invalid_request_error' };
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: user, max_tokens: 1 }),
      sdkError(NotFoundError, 404, fields),
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: user, max_tokens: 1, stream: true }),
      sdkError(NotFoundError, 404, fields),
    );
    await assert.rejects(
      client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 }),
      sdkError(NotFoundError, 404, fields),
    );
    await assert.rejects(
      client.embeddings.create({ model: 'no-such-model', input: 'x' }),
      sdkError(NotFoundError, 404, fields),
    );
  });

  test('a field of the wrong type is BadRequestError naming the field in param', async () => {
    const cases = [
      [{ max_tokens: '8' }, 'max_tokens'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ messages: 'hi' }, 'messages'],
      [{ n: 1.5 }, 'n'],
      [{ stream_options: { include_usage: 'yes' }, stream: true }, 'stream_options.include_usage'],
    ];
    for (const [patch, param] of cases) {
      await assert.rejects(
        client.chat.completions.create({ model: server.modelId, messages: user, max_tokens: 1, ...patch }),
        sdkError(BadRequestError, 400, { param, type: 'invalid_request_error' }),
        `request patched with ${JSON.stringify(patch)}`,
      );
    }
    await assert.rejects(
      client.completions.create({ model: server.modelId, prompt: { text: 'x' }, max_tokens: 1 }),
      sdkError(BadRequestError, 400, { param: 'prompt' }),
    );
    await assert.rejects(
      client.embeddings.create({ model: server.modelId, input: 'x', encoding_format: 'hex' }),
      sdkError(BadRequestError, 400, { param: 'encoding_format' }),
    );
  });

  test('out-of-range values and missing fields are BadRequestError', async () => {
    const cases = [
      [{ n: 0 }, 'n'],
      [{ max_tokens: -1 }, 'max_tokens'],
      [{ logprobs: true, top_logprobs: 30 }, 'top_logprobs'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
      [{ messages: undefined }, 'messages'],
      [{ top_logprobs: 2 }, 'top_logprobs'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] }, 'messages[0].content[0].type'],
    ];
    for (const [patch, param] of cases) {
      await assert.rejects(
        client.chat.completions.create({ model: server.modelId, messages: user, max_tokens: 1, ...patch }),
        sdkError(BadRequestError, 400, { param }),
        `request patched with ${JSON.stringify(patch)}`,
      );
    }
  });

  test('a wrong method is 405 through the SDK and through fetch', async () => {
    await assert.rejects(client.get('/chat/completions'), (err) => {
      assert.ok(err instanceof APIError, `got ${err.constructor.name}`);
      assert.equal(err.status, 405);
      assert.equal(err.type, 'invalid_request_error');
      return true;
    });
    const res = await server.fetch('/v1/models', { method: 'DELETE' });
    await assertEnvelope(res, 405, { code: 'method_not_allowed' });
  });

  test('an unknown URL is 404 with the error envelope', async () => {
    await assert.rejects(client.get('/no/such/endpoint'), sdkError(NotFoundError, 404, { code: 'unknown_url' }));
  });

  test('the server still serves after the errors', async () => {
    const res = await client.chat.completions.create({ model: server.modelId, messages: user, max_tokens: 1 });
    assert.equal(res.choices.length, 1);
  });
});

describe('errors at a small context and body limit', () => {
  const ctx = 64;
  let server;
  let client;
  before(async () => {
    server = await startServer(['--ctx-size', String(ctx), '--max-body-mb', '1']);
    client = server.client();
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
  });

  const long = Array(200).fill('hello').join(' ');
  const exceeded = (param) => sdkError(BadRequestError, 400, { code: 'context_length_exceeded', param });

  test('the model reports the context size', async () => {
    const model = await client.models.retrieve(server.modelId);
    assert.equal(model.meta?.n_ctx, ctx);
  });

  test('a prompt longer than the context is BadRequestError context_length_exceeded', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: long }], max_tokens: 1 }),
      exceeded('messages'),
    );
    await assert.rejects(
      client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: long }], max_tokens: 1, stream: true,
      }),
      exceeded('messages'),
    );
    await assert.rejects(client.completions.create({ model: server.modelId, prompt: long, max_tokens: 1 }), exceeded('prompt'));
    await assert.rejects(client.embeddings.create({ model: server.modelId, input: long }), exceeded('input'));
  });

  test('a short prompt with max_tokens beyond the context is rejected', async () => {
    await assert.rejects(
      client.completions.create({ model: server.modelId, prompt: 'hi', max_tokens: ctx * 2 }),
      exceeded('prompt'),
    );
  });

  test('a request that fits still works', async () => {
    const res = await client.completions.create({ model: server.modelId, prompt: 'hi', max_tokens: 4 });
    assert.equal(res.usage.completion_tokens, 4);
  });

  test('a body over --max-body-mb is 413 with the error envelope', async () => {
    const body = JSON.stringify({ model: server.modelId, prompt: 'x'.repeat(1_200_000), max_tokens: 1 });
    const res = await server.fetch('/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await assertEnvelope(res, 413, { code: 'request_too_large' });
  });
});
