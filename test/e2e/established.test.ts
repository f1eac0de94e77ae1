// established_at: an accept record is made when the accepting process first
// touches the connection, which may be long after the handshake; established_at
// still says when the handshake completed.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { after, describe, it } from 'node:test';
import { killAll, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

after(() => killAll());

// The server accepts, then leaves the connection idle for 1.5 s before it first reads.
const SCRIPT = `
import json, os, socket, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
time.sleep(1.5)
c.sendall(b'x'); a.recv(1)
print(json.dumps({'client': c.getsockname()[1], 'server': l.getsockname()[1], 'pid': os.getpid()}), flush=True)
c.close(); a.close()
`;

describe('established_at', () => {
  it('a late accept record says when the handshake completed: when its peer connected', async () => {
    const tracer = await startTracer(['-f', '--comm', 'python3', '-t', '30']);
    const py = await execa('python3', ['-c', SCRIPT]);
    const ports = JSON.parse(py.stdout) as { client: number; server: number; pid: number };
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await tracer.stop(), 0);
    const recs = tracer.lines.map(assertValidLine);
    const connect = recs.find((r) => r.type === 'connect' && r.sport === ports.client);
    const accept = recs.find((r) => r.type === 'accept' && r.dport === ports.client && r.sport === ports.server);
    const close = recs.find((r) => r.type === 'close' && r.dport === ports.client && r.sport === ports.server);
    assert.ok(connect && accept && close, tracer.lines.join('\n'));
    const ms = (t: unknown) => Date.parse(String(t));
    // Loopback: both ends are established in the same handshake, within a millisecond.
    assert.ok(Math.abs(ms(accept.established_at) - ms(connect.timestamp)) <= 1, JSON.stringify([accept, connect]));
    assert.ok(
      ms(accept.timestamp) - ms(accept.established_at) >= 1400,
      'the accept record came when it was first read',
    );
    assert.equal(close.established_at, accept.established_at);
    assert.equal(connect.pid, ports.pid);
    assert.equal(accept.pid, ports.pid);
  });
});
