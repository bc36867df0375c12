/**
 * @module A load driver for profiling by hand: `node --import tsx scripts/bench/drive.ts <origin> <path> <c> <seconds> [stream] [bearer]`
 * sends the bench's chat body to one running server and prints p50/p99, req/s and the server's CPU
 * per request (when AISBF_PID is set). Used with `node --cpu-prof` on the server (docs/performance.md).
 */
import { closedLoop, median, percentile } from './load.js';
import { cpuMs } from './proc-stats.js';
import { benchChatBody, envNumber } from './spawned.js';

const [origin = 'http://127.0.0.1:17765', path = '/api/mock/chat/completions', c = '1', seconds = '5', stream = '', bearer = ''] = process.argv.slice(2);
const body = benchChatBody(stream === 'stream');
const pid = envNumber('AISBF_PID', 0);
const cpu0 = pid ? cpuMs(pid) : 0;
const s = await closedLoop({ name: 'x', origin, path, body, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }, Number(c), Number(seconds), stream === 'stream');
const cpu = pid ? ((cpuMs(pid) - cpu0) * 1000) / s.ok : NaN;
process.stdout.write(`ok ${s.ok} err ${s.errors} req/s ${(s.ok / s.seconds).toFixed(0)} p50 ${median(s.lat).toFixed(3)} p99 ${percentile(s.lat, 99).toFixed(3)} ttfb50 ${median(s.ttfb).toFixed(3)} cpu µs/req ${cpu.toFixed(0)}\n`);
