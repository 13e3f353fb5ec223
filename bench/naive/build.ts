import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { FUNCTIONS, type FunctionKey, REPO, WORK } from '../common.js';

/**
 * The naive baseline: what a single "zip the whole node_modules" notifier Lambda loads. The same
 * handler entry, bundled by esbuild with every runtime dependency of package.json imported and kept
 * (namespace imports, re-exported), the AWS SDK bundled in instead of taken from the runtime, no
 * minification and no tree shaking. No source maps (they would only make it larger and slower).
 */
export const NAIVE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: false,
  treeShaking: false,
  sourcemap: false,
  external: [],
  // The same CommonJS shim as serverless.yml's banner: bundled CommonJS may `require` built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'silent',
} satisfies BuildOptions;

export interface NaiveBundle {
  function: FunctionKey;
  file: string;
  bytes: number;
  /** Deflate (level 6, as zip uses) of the bundle: about what its zip artifact would weigh. */
  deflatedBytes: number;
  dependencies: string[];
}

/** The runtime dependencies of package.json: the naive bundle carries all of them. */
export async function runtimeDependencies(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(manifest.dependencies ?? {}).sort();
}

/** The entry: every dependency imported and re-exported (so none can be dropped), then the handler. */
export function naiveEntry(handlerSource: string, dependencies: string[]): string {
  const imports = dependencies.map((name, index) => `import * as dependency${index} from '${name}';`);
  const list = dependencies.map((_, index) => `dependency${index}`).join(', ');
  return [
    ...imports,
    `export const everyDependency = [${list}];`,
    `export * from './${handlerSource}';`,
    '',
  ].join('\n');
}

export async function buildNaiveBundles(): Promise<NaiveBundle[]> {
  const dependencies = await runtimeDependencies();
  const bundles: NaiveBundle[] = [];
  for (const fn of FUNCTIONS) {
    const dir = join(WORK, 'naive', fn.key);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${fn.key}.mjs`);
    await build({
      ...NAIVE_OPTIONS,
      stdin: {
        contents: naiveEntry(fn.source, dependencies),
        resolveDir: REPO,
        sourcefile: `naive-${fn.key}.ts`,
        loader: 'ts',
      },
      outfile: file,
    });
    const bytes = (await stat(file)).size;
    const deflatedBytes = deflateRawSync(await readFile(file), { level: 6 }).length;
    bundles.push({ function: fn.key, file, bytes, deflatedBytes, dependencies });
  }
  return bundles;
}
