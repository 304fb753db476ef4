// Server-side sessions through the openai client: a chat request naming a session (an extra
// body field the client passes through) continues the stored conversation, reuses its KV
// cache, stores streamed turns too, and a history that outgrows the context is summarised by
// the summary model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './lib/server.js';

let server;
let client;
before(async () => {
  server = await startServer([
    '--session-store', 'memory', '--ctx-size', '512',
    '--alias', 'summarizer', '--session-summary-model', 'summarizer', '--session-summary-max-tokens', '24',
  ]);
  client = server.client();
});
after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
});

async function api(method, pathname, body) {
  const res = await server.fetch(pathname, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${pathname}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

describe('sessions', () => {
  test('turns continue the stored conversation and reuse its KV cache', async () => {
    const { session_id: id } = await api('POST', '/v1/sessions', { system_prompt: 'Be brief.' });
    const first = await client.chat.completions.create({
      model: server.modelId, session_id: id, max_tokens: 4, temperature: 0,
      messages: [{ role: 'user', content: 'My name is Ada and I keep bees.' }],
    });
    const second = await client.chat.completions.create({
      model: server.modelId, session_id: id, max_tokens: 4, temperature: 0,
      messages: [{ role: 'user', content: 'What do I keep?' }],
    });
    assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens, 'the history is in the prompt');
    assert.ok(second.usage.prompt_tokens_details.cached_tokens > 0, 'turn 1 comes from the KV cache');

    const stream = await client.chat.completions.create({
      model: server.modelId, session_id: id, max_tokens: 4, temperature: 0, stream: true,
      messages: [{ role: 'user', content: 'And my name?' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    const stored = await api('GET', `/v1/sessions/${id}/messages`);
    assert.equal(stored.total, 6);
    assert.equal(stored.data[4].content, 'And my name?');
    assert.equal(stored.data[5].content, text);
  });

  test('a history that outgrows the context is summarised', async () => {
    const { session_id: id } = await api('POST', '/v1/sessions', {});
    const filler = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    let session;
    let turns = 0;
    for (; turns < 16; turns++) {
      const res = await client.chat.completions.create({
        model: server.modelId, session_id: id, max_tokens: 4, temperature: 0,
        messages: [{ role: 'user', content: `Turn ${turns}: ${filler}` }],
      });
      assert.ok(res.usage.prompt_tokens + 4 <= 512);
      session = await api('GET', `/v1/sessions/${id}`);
      if (session.summary_message_count > 0) break;
    }
    assert.ok(session.summary_message_count > 0, 'a summary was made');
    assert.equal(typeof session.summary, 'string');
    assert.equal(session.message_count, 2 * (turns + 1), 'every message is kept');
  });
});
