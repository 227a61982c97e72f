import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaSampler, parseReplicaOutput } from './replica-command.js';

test('replica command output: ready and desired, kubectl’s empty readyReplicas is 0, junk is an error', () => {
  assert.deepEqual(parseReplicaOutput('3 4\n'), { ready: 3, desired: 4 });
  assert.deepEqual(parseReplicaOutput('2'), { ready: 2 });
  assert.deepEqual(parseReplicaOutput('2,5'), { ready: 2, desired: 5 });
  assert.deepEqual(parseReplicaOutput(' 3'), { ready: 0, desired: 3 }, 'jsonpath with no readyReplicas');
  assert.match(parseReplicaOutput('') as string, /printed nothing/);
  assert.match(parseReplicaOutput('Error from server (NotFound)') as string, /expected `<ready> \[<desired>\]`/);
  assert.match(parseReplicaOutput('1 2 3') as string, /expected/);
  assert.match(parseReplicaOutput('-1') as string, /expected/);
});

test('a failing, hanging or missing command is a reason (a gap), never a throw; readings go to their windows', async () => {
  const node = process.execPath;
  const ok = new ReplicaSampler({ argv: [node, '-e', 'console.log("2 3")'], everyMs: 1000, timeoutMs: 5000 });
  assert.equal(await ok.sample(), undefined);
  assert.deepEqual(
    ok.readings.map((r) => [r.ready, r.desired]),
    [[2, 3]],
  );
  const t = ok.readings[0].t;
  assert.deepEqual(ok.perWindow(t - 500, 1000, 2, 'ready'), [2, null]);
  assert.deepEqual(ok.perWindow(t - 1500, 1000, 2, 'desired'), [null, 3]);
  const fail = new ReplicaSampler({
    argv: [node, '-e', 'console.error("forbidden"); process.exit(3)'],
    everyMs: 1000,
    timeoutMs: 5000,
  });
  assert.equal(await fail.sample(), 'exit code 3: forbidden');
  const hang = new ReplicaSampler({ argv: [node, '-e', 'setTimeout(() => {}, 60000)'], everyMs: 1000, timeoutMs: 300 });
  assert.match((await hang.sample()) ?? '', /no answer in 300 ms/);
  const missing = new ReplicaSampler({ argv: ['no-such-program-xyz'], everyMs: 1000, timeoutMs: 1000 });
  assert.match((await missing.sample()) ?? '', /no-such-program-xyz: ENOENT/);
  assert.match(fail.warning() ?? '', /failed 1 of 1 time/);
  assert.equal(ok.warning(), undefined);
});
