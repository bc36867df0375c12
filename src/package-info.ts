/**
 * @module The package root and version, read without loading anything else (a leaf): `aisbf --version`
 * and every command's start-up path depend on it staying this cheap.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder above this file that holds a package.json. This file runs from src/ (tests),
 * dist/ (tsc's output) and dist/bundle/ (the bundled build bin/aisbf.js loads), so no fixed depth fits.
 */
function packageRootAbove(file: string): string {
  for (let dir = dirname(file); ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${file}`);
    dir = up;
  }
}

export const PACKAGE_ROOT = packageRootAbove(fileURLToPath(import.meta.url));

export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
