/**
 * @module The one error type a command throws: a message a person can act on (no stack trace) and
 * the exit code to leave with. `main.ts` prints it as `aisbf: <message>`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** One line for a filesystem error on `path`, by its code (permission, missing, not a directory …). */
export function describeFsError(err: unknown, path: string, doing: string): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `cannot ${doing} ${path}: permission denied`;
    case 'ENOENT':
      return `cannot ${doing} ${path}: it does not exist`;
    case 'ENOTDIR':
      return `cannot ${doing} ${path}: a part of that path is a file, not a directory`;
    case 'EISDIR':
      return `cannot ${doing} ${path}: it is a directory`;
    case 'EROFS':
      return `cannot ${doing} ${path}: read-only file system`;
    case 'ENOSPC':
      return `cannot ${doing} ${path}: no space left on the device`;
    default:
      return `cannot ${doing} ${path}: ${e.message}`;
  }
}
