/**
 * @module `aisbf prompt <user> [text]`: show a glasses profile's prompt, or set it (`--reset` or an
 * empty text restores the default from aisbf.json `glasses.default_prompt`). Works on the SQLite file
 * directly, daemon running or not.
 */
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { requireProfile, withGlasses } from './profile.js';

interface PromptArgs extends GlobalArgs {
  user: string;
  text?: string;
  reset: boolean;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export const promptCommand = defineCommand<PromptArgs>({
  command: 'prompt <user> [text]',
  describe: "Show or set a glasses profile's prompt",
  builder: (y: Argv) =>
    y
      .positional('user', { type: 'string', describe: 'The profile' })
      .positional('text', { type: 'string', describe: 'The new prompt (empty: the default)' })
      .option('reset', { type: 'boolean', default: false, describe: 'Restore the default prompt' })
      .example('$0 prompt alice', "Show alice's prompt")
      .example('$0 prompt alice "Read any text aloud"', 'Set it')
      .example('$0 prompt alice --reset', 'Back to the default') as Argv<PromptArgs>,
  handler: (args) =>
    withGlasses(args, (g) => {
      const p = requireProfile(g, String(args.user));
      const def = g.config.aisbf.glasses.default_prompt;
      if (args.text === undefined && !args.reset) {
        print(p.prompt ?? def);
        print(p.prompt === null ? '(the default prompt)' : '(custom; "aisbf prompt <user> --reset" restores the default)');
        return;
      }
      if (args.text !== undefined && args.reset) throw new CliError('give a text or --reset, not both');
      const text = args.reset ? '' : String(args.text).trim();
      if (text.length > 4000) throw new CliError('the prompt is longer than 4000 characters');
      g.stores.profiles.setPrompt(p.username, text || null);
      print(text ? `prompt of ${p.username} set` : `prompt of ${p.username} restored to the default: ${def}`);
    }),
});
