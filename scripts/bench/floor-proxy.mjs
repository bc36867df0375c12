/**
 * The floor: the least any Node gateway costs. node:http in, one keep-alive agent out, the request
 * and response bytes piped through untouched (no parse, no auth, no routing beyond a fixed path
 * rewrite). `npm run bench` reports aisbf's CPU per request and added latency as ratios to this.
 * Plain JavaScript, run with plain `node` (no loader), so its memory and CPU are Node's alone.
 *
 * Usage: node floor-proxy.mjs <port> <upstream origin>   e.g. 18081 http://127.0.0.1:18080
 * `/api/<provider>/<rest>` goes to `<upstream>/v1/<rest>` (aisbf's path shape); anything else as is.
 */
import { Agent, createServer, request } from 'node:http';

const port = Number(process.argv[2]);
const upstream = new URL(process.argv[3]);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  const path = req.url.startsWith('/api/') ? `/v1/${req.url.split('/').slice(3).join('/')}` : req.url;
  const headers = { ...req.headers, host: upstream.host, authorization: 'Bearer sk-bench' };
  const out = request({ agent, host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
