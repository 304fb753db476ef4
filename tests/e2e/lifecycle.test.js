// Server lifecycle seen by a client: readiness and graceful stop with a request in flight.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startServer } from './lib/server.js';

describe('lifecycle', () => {
  let server;
  after(async () => {
    if (server) await server.stop();
  });

  test('SIGTERM lets an in-flight stream finish, then the server exits 0', async () => {
    server = await startServer(['--shutdown-timeout', '30']);
    const client = server.client();
    const stream = await client.chat.completions.create({
      model: server.modelId,
      messages: [{ role: 'user', content: 'Tell a long story.' }],
      max_tokens: 200,
      stream: true,
      stream_options: { include_usage: true },
    });
    let signalled = false;
    let finish;
    let usage;
    for await (const chunk of stream) {
      if (!signalled) {
        server.child.kill('SIGTERM');
        signalled = true;
      }
      if (chunk.usage) usage = chunk.usage;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(signalled);
    assert.ok(finish === 'length' || finish === 'stop', `finish_reason ${finish}`);
    assert.ok(usage, 'the usage chunk arrives');
    if (finish === 'length') assert.equal(usage.completion_tokens, 200);
    assert.equal(await server.exited, 0);
    await assert.rejects(fetch(`${server.origin}/health`), 'nothing listens after the exit');
  });
});
