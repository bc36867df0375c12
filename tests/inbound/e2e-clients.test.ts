/**
 * The real agent clients, end to end and offline: Claude Code (`claude -p`, Anthropic Messages API)
 * and Codex (`codex exec`, Responses API) talk to aisbf, which serves them from an OpenAI-chat fake
 * upstream through model_aliases. Each answers a prompt after a tool round trip: the model asks to
 * read a file, the client runs its own tool, and the result reaches the upstream.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

const require = createRequire(import.meta.url);
const CLAUDE = require.resolve('@anthropic-ai/claude-code/cli-wrapper.cjs');
const CODEX = require.resolve('@openai/codex/bin/codex.js');

let fake: FakeOpenAI;
let server: TestServer;
let work: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ models: ['main', 'small'] });
  server = await startAisbf({
    providers: { oai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-fake', models: [{ name: 'main' }, { name: 'small' }] } },
    aisbf: { model_aliases: { 'claude-haiku-*': 'oai/small', 'claude-*': 'oai/main', 'gpt-*': 'oai/main' } },
  });
  // Background calls a client makes on its small model (titles, summaries) get a plain answer.
  fake.setModelBehavior('small', { type: 'reply', text: 'ok' });
  work = mkdtempSync(join(tmpdir(), 'aisbf-e2e-'));
  writeFileSync(join(work, 'hello.txt'), 'The secret word is PAPAYA.\n');
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, timeoutMs = 50_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: work, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

describe('real clients through aisbf, offline', () => {
  it('Claude Code answers a prompt after a Read tool round trip', { timeout: 60_000 }, async () => {
    const before = fake.chatRequests().length;
    fake.enqueue(
      { type: 'reply', toolCalls: [{ id: 'call_read1', name: 'Read', arguments: JSON.stringify({ file_path: join(work, 'hello.txt') }) }] },
      { type: 'reply', text: 'The secret word is PAPAYA.' },
    );
    const home = mkdtempSync(join(tmpdir(), 'aisbf-claude-home-'));
    try {
      const r = await run([CLAUDE, '-p', 'Read hello.txt and tell me the secret word.', '--allowedTools', 'Read', '--output-format', 'json'], {
        HOME: home,
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: 'sk-ant-dummy',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      });
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { result: string; is_error: boolean; num_turns: number };
      expect(result.is_error).toBe(false);
      expect(result.result).toContain('PAPAYA');
      // The file's content went back to the model as the tool result.
      const main = fake.chatRequests().slice(before).filter((q) => q.body.model === 'main');
      const toolMsg = (main.at(-1)!.body.messages as Array<{ role: string; tool_call_id?: string; content: unknown }>).find((m) => m.role === 'tool');
      expect(toolMsg).toMatchObject({ tool_call_id: 'call_read1' });
      expect(JSON.stringify(toolMsg!.content)).toContain('The secret word is PAPAYA.');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('Codex answers a prompt after a shell tool round trip', { timeout: 60_000 }, async () => {
    const before = fake.chatRequests().length;
    fake.enqueue(
      { type: 'reply', toolCalls: [{ id: 'call_sh1', name: 'exec_command', arguments: JSON.stringify({ cmd: 'cat hello.txt' }) }] },
      { type: 'reply', text: 'The secret word is PAPAYA.' },
    );
    const home = mkdtempSync(join(tmpdir(), 'aisbf-codex-home-'));
    try {
      writeFileSync(
        join(home, 'config.toml'),
        [
          'model = "gpt-5-codex"',
          'model_provider = "aisbf"',
          '[model_providers.aisbf]',
          'name = "aisbf"',
          `base_url = "${server.url}/v1"`,
          'wire_api = "responses"',
          'env_key = "AISBF_API_KEY"',
          '',
        ].join('\n'),
      );
      const r = await run([CODEX, 'exec', '--skip-git-repo-check', '--sandbox', 'danger-full-access', 'Run cat hello.txt and tell me the secret word.'], {
        HOME: home,
        CODEX_HOME: home,
        AISBF_API_KEY: 'sk-dummy',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('PAPAYA');
      const reqs = fake.chatRequests().slice(before).filter((q) => q.body.model === 'main');
      const toolMsg = (reqs.at(-1)!.body.messages as Array<{ role: string; tool_call_id?: string; content: unknown }>).find((m) => m.role === 'tool');
      expect(toolMsg).toMatchObject({ tool_call_id: 'call_sh1' });
      expect(JSON.stringify(toolMsg!.content)).toContain('PAPAYA');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
