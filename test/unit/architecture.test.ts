import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/template.js';

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file imports (static and dynamic), resolved to a repository path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] ?? '');
  return specifiers.map((spec) =>
    spec.startsWith('.') ? relative(ROOT, join(ROOT, file, '..', spec)).replace(/\.js$/, '.ts') : spec,
  );
}

const OUTSIDE =
  /^(@aws-sdk|@smithy|@slack|backlog-js|@middy|@aws-lambda-powertools|node:https?$|node:net|undici|axios)/;

describe('layers', () => {
  it('src/domain imports nothing from app, adapters, handlers, config, cli or local, and no outside client', () => {
    const offending = filesUnder('src/domain').flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^src\/(app|adapters|handlers|config|cli|local)\//.test(spec) || OUTSIDE.test(spec))
        .map((spec) => `${file} → ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('src/domain reads no environment', () => {
    const offending = filesUnder('src/domain').filter((file) =>
      readFileSync(join(ROOT, file), 'utf8').includes('process.env'),
    );
    expect(offending).toEqual([]);
  });

  it('src/app imports no AWS SDK or HTTP client, and nothing from adapters, handlers, cli or local', () => {
    const offending = filesUnder('src/app').flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^src\/(adapters|handlers|cli|local)\//.test(spec) || OUTSIDE.test(spec))
        .map((spec) => `${file} → ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('no function deployed to Lambda imports the local sandbox or the command-line tools', () => {
    const offending = [
      ...filesUnder('src/handlers'),
      ...filesUnder('src/adapters'),
      ...filesUnder('src/app'),
    ].flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^src\/(local|cli)\//.test(spec))
        .map((spec) => `${file} → ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('keeps every use-case function short (at most 60 lines)', () => {
    const long: string[] = [];
    for (const file of filesUnder('src/app')) {
      const source = ts.createSourceFile(
        file,
        readFileSync(join(ROOT, file), 'utf8'),
        ts.ScriptTarget.ES2023,
        true,
      );
      const visit = (node: ts.Node) => {
        if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node)) {
          const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (end - start + 1 > 60) long.push(`${file}:${start + 1} (${end - start + 1} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });

  it('keeps handlers thin: composition roots of about 40 lines of code', () => {
    const sizes = filesUnder('src/handlers')
      .filter((file) => !file.endsWith('runtime.ts') && !file.endsWith('task-input.ts'))
      .map((file) => {
        const code = readFileSync(join(ROOT, file), 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '' && !/^\s*(\/\/|\/?\*)/.test(line) && !/^import /.test(line));
        return { file, lines: code.length };
      });
    expect(sizes.filter((size) => size.lines > 70)).toEqual([]);
  });
});
