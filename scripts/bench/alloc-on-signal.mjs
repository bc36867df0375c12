/**
 * Bench-only preload for alloc-sites.ts (never loaded by aisbf itself): the first SIGUSR2 starts V8's
 * sampling heap profiler in this process, counting objects the GC already collected too (so the
 * profile is what was allocated, not what survived; with ALLOC_SITES_PROMOTED=1, objects a scavenge
 * collected are left out: what was promoted); the second stops it and writes the profile as JSON to
 * $ALLOC_SITES_OUT.
 */
import { Session } from 'node:inspector';
import { renameSync, writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    const interval = Number(process.env.ALLOC_SITES_INTERVAL) || 512;
    session.post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.ALLOC_SITES_PROMOTED !== '1' });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, r) => {
    const out = process.env.ALLOC_SITES_OUT;
    if (err || !out) return;
    // Written aside and renamed: the reader polls for the file and must never see half of it.
    writeFileSync(`${out}.part`, JSON.stringify(r.profile));
    renameSync(`${out}.part`, out);
  });
});
