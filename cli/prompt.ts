import { AppError } from '../common/index.ts';

/**
 * Reads a secret typed on the terminal, without echoing it: raw mode, Enter ends it, Backspace
 * takes back a character, Ctrl-C gives up. Only for a terminal (`process.stdin.isTTY`).
 */
async function readHidden(label: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(label);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (then: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      then();
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(typed));
        if (ch === '\u0003') return finish(() => reject(new AppError('ERR_UNAUTHENTICATED', 'password entry interrupted')));
        typed = ch === '\u007f' || ch === '\b' ? [...typed].slice(0, -1).join('') : typed + ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Reads the first line of stdin (a password piped in by a script). */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** A password: typed on the terminal without echo after `label`, or the first line of stdin when it is piped. */
export async function readPassword(label: string): Promise<string> {
  return process.stdin.isTTY ? readHidden(label) : readFirstLine();
}

/**
 * The password of a user signing in to the CLI, asked on the terminal; undefined when there is no
 * terminal to ask on (a script must use ARKIVA_TOKEN: stdin may be a pipe nobody writes to).
 */
export async function askSignInPassword(username: string): Promise<string | undefined> {
  return process.stdin.isTTY ? readHidden(`password of ${username}: `) : undefined;
}
