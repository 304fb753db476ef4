// Legacy completions through the openai client, including lm-evaluation-harness style scoring
// (echo + logprobs + max_tokens 0).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from './lib/server.js';

let server;
let client;
before(async () => {
  server = await startServer();
  client = server.client();
});
after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'inferd should exit 0 on SIGTERM');
});

async function tokenize(content) {
  const res = await server.fetch('/tokenize', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).tokens;
}

describe('completions', () => {
  test('non-streamed response has the text_completion shape', async () => {
    const res = await client.completions.create({ model: server.modelId, prompt: 'Once upon a time', max_tokens: 5, seed: 5 });
    assert.match(res.id, /^cmpl-\S+$/);
    assert.equal(res.object, 'text_completion');
    assert.equal(res.model, server.modelId);
    assert.ok(Number.isInteger(res.created));
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].index, 0);
    assert.equal(typeof res.choices[0].text, 'string');
    assert.equal(res.choices[0].logprobs, null);
    assert.equal(res.choices[0].finish_reason, 'length');
    assert.equal(res.usage.completion_tokens, 5);
    assert.equal(res.usage.prompt_tokens, (await tokenize('Once upon a time')).length);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + 5);
  });

  test('a list of prompts gives one choice per prompt', async () => {
    const res = await client.completions.create({ model: server.modelId, prompt: ['a b', 'c d e'], max_tokens: 2, seed: 5 });
    assert.deepEqual(res.choices.map((c) => c.index), [0, 1]);
    assert.equal(res.usage.completion_tokens, 4);
  });

  test('the same seed at temperature 1 gives the same text', async () => {
    const req = { model: server.modelId, prompt: 'The weather today', max_tokens: 8, temperature: 1 };
    const a = await client.completions.create({ ...req, seed: 99 });
    const b = await client.completions.create({ ...req, seed: 99 });
    assert.equal(a.choices[0].text, b.choices[0].text);
    const c = await client.completions.create({ ...req, seed: 100 });
    const d = await client.completions.create({ ...req, seed: 101 });
    assert.ok(
      c.choices[0].text !== a.choices[0].text || d.choices[0].text !== a.choices[0].text,
      'three seeds all sampled the same 8 tokens',
    );
  });

  test('a stop string ends the text before it', async () => {
    const req = { model: server.modelId, prompt: 'Numbers:', max_tokens: 12, temperature: 0 };
    const free = (await client.completions.create(req)).choices[0].text;
    assert.ok(free.length >= 4, `greedy text too short to cut: ${JSON.stringify(free)}`);
    const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 2);
    const res = await client.completions.create({ ...req, stop: [stop, 'never-generated-xyz'] });
    assert.equal(res.choices[0].text, free.slice(0, free.indexOf(stop)));
    assert.equal(res.choices[0].finish_reason, 'stop');
  });

  test('streamed text equals the non-streamed text', async () => {
    const req = { model: server.modelId, prompt: 'Hello', max_tokens: 6, temperature: 0 };
    const whole = await client.completions.create(req);
    const stream = await client.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish;
    let usage;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'text_completion');
      assert.match(chunk.id, /^cmpl-/);
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        text += choice.text;
        finish = choice.finish_reason ?? finish;
      }
    }
    assert.equal(text, whole.choices[0].text);
    assert.equal(finish, 'length');
    // The same counts; the second request may reuse the first one's KV blocks (cached_tokens).
    assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  });

  test('generation logprobs: one entry per generated token', async () => {
    const res = await client.completions.create({
      model: server.modelId, prompt: 'Hello there', max_tokens: 4, temperature: 0, logprobs: 2,
    });
    const { logprobs, text } = res.choices[0];
    assert.equal(logprobs.tokens.length, 4);
    assert.equal(logprobs.token_logprobs.length, 4);
    assert.equal(logprobs.top_logprobs.length, 4);
    assert.equal(logprobs.text_offset.length, 4);
    assert.equal(logprobs.tokens.join(''), text);
    for (let i = 0; i < 4; ++i) {
      const top = Object.entries(logprobs.top_logprobs[i]);
      assert.equal(top.length, 2);
      // Greedy: the chosen token leads its top list.
      const best = Math.max(...top.map(([, lp]) => lp));
      assert.ok(Math.abs(best - logprobs.token_logprobs[i]) < 1e-6);
      assert.equal(logprobs.top_logprobs[i][logprobs.tokens[i]], logprobs.token_logprobs[i]);
      // text_offset counts characters (Unicode code points, as Python's str does), not bytes.
      if (!logprobs.tokens[i].includes('\uFFFD')) {
        const at = [...text].slice(logprobs.text_offset[i]).join('');
        assert.ok(at.startsWith(logprobs.tokens[i]), `token ${i} ${JSON.stringify(logprobs.tokens[i])} not at offset ${logprobs.text_offset[i]} of ${JSON.stringify(text)}`);
      }
    }
  });

  test('scoring: echo + logprobs with max_tokens 0 returns prompt token logprobs', async () => {
    const prompt = 'The quick brown fox jumps over the lazy dog';
    const tokens = await tokenize(prompt);
    const res = await client.completions.create({
      model: server.modelId, prompt, max_tokens: 0, echo: true, logprobs: 1, temperature: 0,
    });
    const [choice] = res.choices;
    assert.equal(choice.text, prompt, 'echo returns the prompt and nothing more');
    assert.equal(res.usage.completion_tokens, 0);
    assert.equal(res.usage.prompt_tokens, tokens.length);
    const lp = choice.logprobs;
    assert.equal(lp.tokens.length, tokens.length);
    assert.equal(lp.token_logprobs.length, tokens.length);
    assert.equal(lp.top_logprobs.length, tokens.length);
    assert.equal(lp.text_offset.length, tokens.length);
    // The first token has no context to be scored against.
    assert.equal(lp.token_logprobs[0], null);
    for (let i = 1; i < tokens.length; ++i) {
      assert.ok(Number.isFinite(lp.token_logprobs[i]) && lp.token_logprobs[i] <= 0);
      const top = Object.values(lp.top_logprobs[i]);
      assert.equal(top.length, 1);
      assert.ok(lp.token_logprobs[i] <= top[0] + 1e-6, 'no token beats the top-1');
      assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1], 'offsets do not decrease');
    }
  });

  test('scoring token-id prompts: a prefix scores the same inside a longer prompt', async () => {
    const tokens = await tokenize('Paris is the capital of France');
    const prefix = tokens.slice(0, 4);
    const score = async (prompt) => (await client.completions.create({
      model: server.modelId, prompt, max_tokens: 0, echo: true, logprobs: 0,
    })).choices[0].logprobs.token_logprobs;
    const full = await score(tokens);
    const part = await score(prefix);
    assert.equal(full.length, tokens.length);
    assert.equal(part.length, prefix.length);
    for (let i = 1; i < prefix.length; ++i) {
      assert.ok(Math.abs(full[i] - part[i]) < 1e-4, `token ${i}: ${full[i]} vs ${part[i]}`);
    }
  });

  test('echo with generation returns the prompt followed by the completion', async () => {
    const prompt = 'Roses are red';
    const plain = await client.completions.create({ model: server.modelId, prompt, max_tokens: 3, temperature: 0 });
    const echoed = await client.completions.create({ model: server.modelId, prompt, max_tokens: 3, temperature: 0, echo: true });
    assert.equal(echoed.choices[0].text, prompt + plain.choices[0].text);
  });
});
