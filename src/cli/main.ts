/**
 * @module The `aisbf` command. With no command it runs the server in the foreground.
 */
import { startServer } from '../server/serve.js';
import { ConfigError } from '../config/load-config.js';

async function main(): Promise<void> {
  try {
    const running = await startServer({});
    const stop = () => {
      void running.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`aisbf: invalid config:\n${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`aisbf: the port is already in use (${e.message}); stop the other process or pass --port\n`);
      process.exit(1);
    }
    process.stderr.write(`aisbf: ${e.message}\n`);
    process.exit(1);
  }
}

void main();
