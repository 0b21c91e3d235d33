// A rosbridge client in a process of its own for `rosbridge.hol`: reads everything the endpoint
// sends (counting bytes, parsing nothing), and sends a command whenever its parent says so — so the
// figure is the endpoint's, not the cost of a client sharing its event loop.
import { WebSocket } from 'ws';

const ws = new WebSocket(process.argv[2]);
let bytes = 0;
let messages = 0;
ws.on('message', (data) => {
  bytes += data.length;
  messages++;
});
ws.on('open', () => process.send({ type: 'open' }));
ws.on('error', (e) => process.send({ type: 'error', message: String(e) }));
process.on('message', (m) => {
  if (m.type === 'send') ws.send(m.frame);
  else if (m.type === 'stats') process.send({ type: 'stats', bytes, messages });
  else if (m.type === 'quit') {
    ws.terminate();
    process.exit(0);
  }
});
