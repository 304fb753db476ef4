// Tools and structured output through the openai client: forced tool calls (required and named,
// streamed and not), a tool-result round trip, json_schema and json_object response formats.
// The served model has random weights, so every check relies on the server's constraints.
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

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
        required: ['city', 'days'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: {
        type: 'object',
        properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } },
        required: ['zone'],
        additionalProperties: false,
      },
    },
  },
];

function checkArguments(name, text) {
  const args = JSON.parse(text);
  if (name === 'get_weather') {
    assert.ok(['Paris', 'Oslo'].includes(args.city), text);
    assert.ok(Number.isInteger(args.days) && args.days >= 1 && args.days <= 7, text);
  } else {
    assert.equal(name, 'get_time');
    assert.ok(['UTC', 'CET'].includes(args.zone), text);
  }
}

describe('tools', () => {
  test('tool_choice required gives one valid call', async () => {
    for (const seed of [1, 2]) {
      const res = await client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: 'Weather in Paris for 3 days?' }],
        tools, tool_choice: 'required', max_tokens: 200, temperature: 1, seed,
      });
      const [choice] = res.choices;
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, null);
      assert.equal(choice.message.tool_calls.length, 1);
      const [call] = choice.message.tool_calls;
      assert.equal(call.type, 'function');
      assert.match(call.id, /^call_/);
      checkArguments(call.function.name, call.function.arguments);
    }
  });

  test('a named tool streams as tool-call deltas', async () => {
    const stream = await client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: 'What time is it?' }], tools,
      tool_choice: { type: 'function', function: { name: 'get_time' } }, max_tokens: 200, stream: true,
    });
    let name = '';
    let args = '';
    let finish = null;
    for await (const chunk of stream) {
      const [choice] = chunk.choices;
      for (const call of choice.delta.tool_calls ?? []) {
        assert.equal(call.index, 0);
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(name, 'get_time');
    checkArguments(name, args);
  });

  test('a tool result continues the conversation', async () => {
    const res = await client.chat.completions.create({
      model: server.modelId, max_tokens: 4, tools,
      messages: [
        { role: 'user', content: 'Time in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '14:05' },
      ],
    });
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.usage.completion_tokens <= 4, true);
  });

  test('tool_choice naming an unknown function is a 400 naming tool_choice', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: 'hi' }], tools,
        tool_choice: { type: 'function', function: { name: 'nope' } },
      }),
      (err) => err.status === 400 && err.param === 'tool_choice',
    );
  });
});

describe('structured output', () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 8 },
      age: { type: 'integer', minimum: 0, maximum: 120 },
      pet: { enum: ['cat', 'dog', null] },
    },
    required: ['name', 'age', 'pet'],
    additionalProperties: false,
  };

  test('json_schema output parses and validates', async () => {
    for (const seed of [3, 4, 5]) {
      const res = await client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: 'A person as JSON' }], max_tokens: 150,
        temperature: 1, seed, response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      });
      assert.equal(res.choices[0].finish_reason, 'stop');
      const out = JSON.parse(res.choices[0].message.content);
      assert.deepEqual(Object.keys(out).sort(), ['age', 'name', 'pet']);
      assert.equal(typeof out.name, 'string');
      assert.ok(Number.isInteger(out.age) && out.age >= 0 && out.age <= 120);
      assert.ok([null, 'cat', 'dog'].includes(out.pet));
    }
  });

  test('json_schema streams the same JSON', async () => {
    const req = {
      model: server.modelId, messages: [{ role: 'user', content: 'A person as JSON' }], max_tokens: 150, seed: 8,
      temperature: 1, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
    };
    const whole = await client.chat.completions.create(req);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...req, stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, whole.choices[0].message.content);
    JSON.parse(text);
  });

  test('json_object output is a JSON object when it ends', async () => {
    const res = await client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: 'Some JSON' }], max_tokens: 200, seed: 11,
      response_format: { type: 'json_object' },
    });
    if (res.choices[0].finish_reason === 'stop') {
      const out = JSON.parse(res.choices[0].message.content);
      assert.equal(typeof out, 'object');
      assert.ok(out !== null && !Array.isArray(out));
    }
  });

  test('an unsupported schema is a 400 naming the schema', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: server.modelId, messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { not: { type: 'string' } } } },
      }),
      (err) => err.status === 400 && err.param === 'response_format.json_schema.schema',
    );
  });
});
