/**
 * `npm run replay -- <file>...`: events through the production path against the embedded
 * emulators, or the endpoints the environment names (README "Replay events locally").
 */
import { pathToFileURL } from 'node:url';
import { createReplayer, readEventFiles } from '../local/replayer.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const files = argv.filter((arg) => !arg.startsWith('--'));
  if (files.length === 0) {
    console.error('usage: npm run replay -- <event.json|events.jsonl>...');
    return 2;
  }
  const { events, unreadable } = await readEventFiles(files);
  const replayer = await createReplayer({ env, deadLetterDir: env.REPLAY_DEAD_LETTER_DIR ?? '.dead-letter' });
  try {
    const result = await replayer.replay(events, unreadable);
    return result.exitCode;
  } finally {
    await replayer.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`replay failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
