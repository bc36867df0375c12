const root = process.argv[2]; const mods = process.argv.slice(3);
const c0 = process.cpuUsage(); const t0 = performance.now();
await import(root + '/dist/config/load-config.js');
let prev = process.cpuUsage(c0); let out = [`config ${((prev.user+prev.system)/1000).toFixed(0)}`];
for (const m of mods) { await import(m.startsWith('dist') ? root + '/' + m : m); const c = process.cpuUsage(c0); out.push(`${m} +${((c.user+c.system-prev.user-prev.system)/1000).toFixed(0)}`); prev = c; }
console.log(out.join(' | '), '| total cpu', ((prev.user+prev.system)/1000).toFixed(0));
