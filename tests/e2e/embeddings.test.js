// Embeddings through the openai client, as floats and as base64.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './lib/server.js';

let server;
let client;
let dims;
before(async () => {
  server = await startServer();
  client = server.client();
  dims = (await client.models.retrieve(server.modelId)).meta?.n_embd;
});
after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
});

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

function assertClose(a, b, what) {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; ++i) {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe('embeddings', () => {
  test('float encoding: list shape, one unit vector per input, usage', async () => {
    const inputs = ['hello world', 'a rather longer sentence about something else'];
    const res = await client.embeddings.create({ model: server.modelId, input: inputs, encoding_format: 'float' });
    assert.equal(res.object, 'list');
    assert.equal(res.model, server.modelId);
    assert.equal(res.data.length, 2);
    res.data.forEach((item, i) => {
      assert.equal(item.object, 'embedding');
      assert.equal(item.index, i);
      assert.ok(Array.isArray(item.embedding));
      if (dims !== undefined) assert.equal(item.embedding.length, dims);
      assert.ok(item.embedding.every(Number.isFinite));
      assert.ok(Math.abs(norm(item.embedding) - 1) < 1e-3, `norm ${norm(item.embedding)}`);
    });
    assert.notDeepEqual(res.data[0].embedding, res.data[1].embedding);
    assert.ok(res.usage.prompt_tokens > 0);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens);
  });

  test('the SDK default (base64 on the wire, decoded by the SDK) matches float', async () => {
    const input = 'hello world';
    const floats = await client.embeddings.create({ model: server.modelId, input, encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model: server.modelId, input });
    assertClose(decoded.data[0].embedding, floats.data[0].embedding, 'decoded');
  });

  test('explicit base64 encoding returns little-endian float32 bytes', async () => {
    const input = ['hello world', 'x'];
    const floats = await client.embeddings.create({ model: server.modelId, input, encoding_format: 'float' });
    const res = await client.embeddings.create({ model: server.modelId, input, encoding_format: 'base64' });
    assert.equal(res.data.length, 2);
    res.data.forEach((item, i) => {
      assert.equal(typeof item.embedding, 'string');
      const buf = Buffer.from(item.embedding, 'base64');
      assert.equal(buf.length % 4, 0);
      const values = Array.from({ length: buf.length / 4 }, (_, k) => buf.readFloatLE(4 * k));
      assertClose(values, floats.data[i].embedding, `input ${i}`);
    });
  });

  test('the same input embeds the same way alone and in a batch', async () => {
    const alone = await client.embeddings.create({ model: server.modelId, input: 'x', encoding_format: 'float' });
    const batch = await client.embeddings.create({ model: server.modelId, input: ['hello world', 'x'], encoding_format: 'float' });
    assertClose(batch.data[1].embedding, alone.data[0].embedding, 'batched');
  });

  test('token-id input embeds like its text', async () => {
    const res = await server.fetch('/tokenize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello world' }),
    });
    const { tokens } = await res.json();
    const fromText = await client.embeddings.create({ model: server.modelId, input: 'hello world', encoding_format: 'float' });
    const fromIds = await client.embeddings.create({ model: server.modelId, input: tokens, encoding_format: 'float' });
    assertClose(fromIds.data[0].embedding, fromText.data[0].embedding, 'ids');
  });
});
