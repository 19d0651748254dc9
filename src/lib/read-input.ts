import { readFile } from 'node:fs/promises';
import { AppError } from './errors.js';

/** A definition file's text ("-" reads standard input); a file that cannot be read is bad input naming it. */
export async function readInputFile(path: string, readStdin: () => Promise<string>): Promise<string> {
  try {
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new AppError('bad_input', `cannot read ${path}: ${(err as Error).message}`);
  }
}
