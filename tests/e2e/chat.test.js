// Chat completions through the openai client: shapes, streaming, n, stop, seeds, logprobs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './lib/server.js';

const messages = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three colours.' },
];

let server;
let client;
before(async () => {
  server = await startServer();
  client = server.client();
});
after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
});

function assertUsage(usage, completionTokens) {
  assert.ok(usage, 'usage present');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  if (completionTokens !== undefined) assert.equal(usage.completion_tokens, completionTokens);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

describe('chat completions', () => {
  test('non-streamed response has the chat.completion shape', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 6, seed: 5 });
    assert.match(res.id, /^chatcmpl-\S+$/);
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, server.modelId);
    assert.ok(Number.isInteger(res.created) && res.created >= before - 5, `created ${res.created}`);
    assert.equal(res.choices.length, 1);
    const [choice] = res.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.equal(choice.logprobs, null);
    // Sampled with a fixed seed, so the outcome does not change from run to run: random-weight
    // models emit their end token now and then even within a few tokens.
    assert.equal(choice.finish_reason, 'length');
    assertUsage(res.usage, 6);
  });

  test('ids differ between requests', async () => {
    const a = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 1 });
    const b = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 1 });
    assert.notEqual(a.id, b.id);
  });

  test('max_completion_tokens limits the completion like max_tokens', async () => {
    const res = await client.chat.completions.create({ model: server.modelId, messages, max_completion_tokens: 3, seed: 5 });
    assert.equal(res.choices[0].finish_reason, 'length');
    assert.equal(res.usage.completion_tokens, 3);
  });

  test('greedy decoding is deterministic', async () => {
    const req = { model: server.modelId, messages, max_tokens: 8, temperature: 0 };
    const a = await client.chat.completions.create(req);
    const b = await client.chat.completions.create(req);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test('streaming with include_usage: role delta, content deltas, finish chunk, usage chunk', async () => {
    const req = { model: server.modelId, messages, max_tokens: 6, temperature: 0 };
    const whole = await client.chat.completions.create(req);
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    assert.ok(chunks.length >= 3, `got ${chunks.length} chunks`);
    const id = chunks[0].id;
    assert.match(id, /^chatcmpl-\S+$/);
    for (const chunk of chunks) {
      assert.equal(chunk.id, id, 'one id for every chunk');
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, server.modelId);
      assert.ok(Number.isInteger(chunk.created));
    }
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');

    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assertUsage(usageChunk.usage, 6);
    // The same counts; the second request may reuse the first one's KV blocks (cached_tokens).
    assert.equal(usageChunk.usage.prompt_tokens, whole.usage.prompt_tokens);
    assert.equal(usageChunk.usage.completion_tokens, whole.usage.completion_tokens);

    const finishChunk = chunks.at(-2);
    assert.equal(finishChunk.choices.length, 1);
    assert.equal(finishChunk.choices[0].finish_reason, 'length');

    let content = '';
    for (const chunk of chunks.slice(0, -1)) {
      assert.equal(chunk.usage ?? null, null, 'usage only on the last chunk');
      assert.equal(chunk.choices.length, 1);
      assert.equal(chunk.choices[0].index, 0);
      if (chunk !== finishChunk) assert.equal(chunk.choices[0].finish_reason, null);
      content += chunk.choices[0].delta.content ?? '';
    }
    assert.equal(content, whole.choices[0].message.content, 'streamed text equals the non-streamed text');
  });

  test('streaming without include_usage sends no usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: server.modelId, messages, max_tokens: 3, stream: true, seed: 5,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
    for (const chunk of chunks) assert.equal(chunk.usage ?? null, null);
  });

  test('the SDK stream helper assembles the final completion', async () => {
    const req = { model: server.modelId, messages, max_tokens: 5, temperature: 0 };
    const whole = await client.chat.completions.create(req);
    const runner = client.chat.completions.stream(req);
    let deltas = '';
    runner.on('content', (delta) => (deltas += delta));
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.content, whole.choices[0].message.content);
    assert.equal(deltas, whole.choices[0].message.content);
    assert.equal(final.choices[0].finish_reason, 'length');
  });

  test('n=2 returns two choices with indices 0 and 1', async () => {
    const res = await client.chat.completions.create({
      model: server.modelId, messages, max_tokens: 4, n: 2, temperature: 1, seed: 11,
    });
    assert.equal(res.choices.length, 2);
    assert.deepEqual(res.choices.map((c) => c.index), [0, 1]);
    for (const choice of res.choices) {
      assert.equal(choice.message.role, 'assistant');
      assert.equal(choice.finish_reason, 'length');
    }
    assertUsage(res.usage, 8);
  });

  test('n=2 streamed: chunks of both choices, each with its own finish', async () => {
    const stream = await client.chat.completions.create({
      model: server.modelId, messages, max_tokens: 3, n: 2, stream: true, stream_options: { include_usage: true }, seed: 5,
    });
    const finishes = new Map();
    const roles = new Set();
    let usage;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.delta.role) roles.add(choice.index);
        if (choice.finish_reason) finishes.set(choice.index, choice.finish_reason);
      }
    }
    assert.deepEqual([...roles].sort(), [0, 1]);
    assert.deepEqual([...finishes.entries()].sort(), [[0, 'length'], [1, 'length']]);
    assertUsage(usage, 6);
  });

  test('a stop string ends the completion before it, non-streamed and streamed', async () => {
    const req = { model: server.modelId, messages, max_tokens: 12, temperature: 0 };
    const free = (await client.chat.completions.create(req)).choices[0].message.content;
    assert.ok(free.length >= 4, `greedy text too short to cut: ${JSON.stringify(free)}`);
    const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 2);
    const expected = free.slice(0, free.indexOf(stop));

    const res = await client.chat.completions.create({ ...req, stop: [stop] });
    assert.equal(res.choices[0].message.content, expected);
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.ok(res.usage.completion_tokens < 12);

    const stream = await client.chat.completions.create({ ...req, stop, stream: true });
    let content = '';
    let finish;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(content, expected, 'no part of the stop string is streamed');
    assert.equal(finish, 'stop');
  });

  test('the same seed at temperature 1 gives the same text; other seeds differ', async () => {
    const req = { model: server.modelId, messages, max_tokens: 8, temperature: 1 };
    const a = await client.chat.completions.create({ ...req, seed: 1234 });
    const b = await client.chat.completions.create({ ...req, seed: 1234 });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    const others = [];
    for (const seed of [1, 2, 3]) {
      others.push((await client.chat.completions.create({ ...req, seed })).choices[0].message.content);
    }
    assert.ok(
      others.some((text) => text !== a.choices[0].message.content),
      'four seeds all sampled the same 8 tokens',
    );
  });

  test('logprobs with top_logprobs', async () => {
    const res = await client.chat.completions.create({
      model: server.modelId, messages, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
    });
    const [choice] = res.choices;
    const content = choice.logprobs.content;
    assert.equal(content.length, res.usage.completion_tokens);
    const bytes = [];
    for (const entry of content) {
      assert.equal(typeof entry.token, 'string');
      assert.ok(entry.logprob <= 0 && Number.isFinite(entry.logprob));
      assert.ok(Array.isArray(entry.bytes));
      // A token that is a partial UTF-8 sequence has no exact string form; its bytes are exact.
      if (!entry.token.includes('\uFFFD')) assert.deepEqual(entry.bytes, [...Buffer.from(entry.token, 'utf8')]);
      bytes.push(...entry.bytes);
      assert.equal(entry.top_logprobs.length, 3);
      for (let i = 1; i < 3; ++i) {
        assert.ok(entry.top_logprobs[i - 1].logprob >= entry.top_logprobs[i].logprob, 'top_logprobs sorted');
      }
      // Greedy: the chosen token is the most likely one.
      assert.equal(entry.top_logprobs[0].token, entry.token);
      assert.ok(Math.abs(entry.top_logprobs[0].logprob - entry.logprob) < 1e-6);
    }
    assert.equal(Buffer.from(bytes).toString('utf8'), choice.message.content, 'token bytes spell the content');
  });

  test('logprobs in stream chunks', async () => {
    const stream = await client.chat.completions.create({
      model: server.modelId, messages, max_tokens: 3, logprobs: true, top_logprobs: 2, stream: true, seed: 5,
    });
    let entries = 0;
    for await (const chunk of stream) {
      for (const entry of chunk.choices[0]?.logprobs?.content ?? []) {
        ++entries;
        assert.equal(entry.top_logprobs.length, 2);
      }
    }
    assert.equal(entries, 3);
  });

  test('message forms SDK users send: content parts, developer, assistant tool_calls, tool results', async () => {
    const res = await client.chat.completions.create({
      model: server.modelId,
      max_tokens: 2,
      seed: 5,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is 6 times 7?' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'multiply', arguments: '{"a":6,"b":7}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '42' },
      ],
    });
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.usage.completion_tokens, 2);
  });

  test('concurrent requests each get a complete, independent answer', async () => {
    const prompts = ['one', 'two', 'three', 'four'];
    const solo = [];
    for (const p of prompts) {
      solo.push((await client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: p }], max_tokens: 5, temperature: 0,
      })).choices[0].message.content);
    }
    const together = await Promise.all(prompts.map((p) => client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: p }], max_tokens: 5, temperature: 0,
    })));
    assert.equal(new Set(together.map((r) => r.id)).size, 4);
    assert.deepEqual(together.map((r) => r.choices[0].message.content), solo);
  });
});

describe('prefix cache', () => {
  test('a second turn reports the first turn as cached_tokens', async () => {
    const convo = [
      { role: 'system', content: 'You are a patient tutor who explains the history of astronomy step by step.' },
      { role: 'user', content: 'Who first measured the circumference of the Earth, and how?' },
    ];
    const first = await client.chat.completions.create({ model: server.modelId, messages: convo, max_tokens: 8, temperature: 0 });
    const cachedFirst = first.usage.prompt_tokens_details.cached_tokens;  // a shared system-prompt start, at most
    convo.push({ role: 'assistant', content: first.choices[0].message.content });
    convo.push({ role: 'user', content: 'And who measured the distance to the Moon?' });
    const second = await client.chat.completions.create({ model: server.modelId, messages: convo, max_tokens: 4, temperature: 0 });
    const cached = second.usage.prompt_tokens_details.cached_tokens;
    // Whole 16-token blocks of the first turn, up to where the re-rendered text tokenizes differently.
    assert.ok(cached > cachedFirst && cached >= first.usage.prompt_tokens - 32 && cached < second.usage.prompt_tokens,
      `cached_tokens ${cached} of ${second.usage.prompt_tokens} (first turn: ${first.usage.prompt_tokens})`);
  });
});
