import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionKey, REPO, run } from './common.js';

export interface ZipEntry {
  name: string;
  compressedBytes: number;
  bytes: number;
}

/** The entries of a zip file, from its central directory (no zip64: artifacts are far below 4 GB). */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
  const CENTRAL_FILE_HEADER = 0x02014b50;
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset -= 1) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip file: no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new Error(`zip: bad central header ${index}`);
    const compressedBytes = zip.readUInt32LE(offset + 20);
    const bytes = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, compressedBytes, bytes });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export interface BundleFigures {
  function: FunctionKey;
  artifact: string;
  zippedBytes: number;
  unpackedBytes: number;
  /** The handler's .mjs alone, unpacked. */
  bundleBytes: number;
  entries: ZipEntry[];
}

/** `npm run package` (serverless package, offline), then each function's artifact measured. */
export async function packageAndMeasure(): Promise<BundleFigures[]> {
  try {
    await run('npm', ['run', 'package', '--silent'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run package failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  const figures: BundleFigures[] = [];
  for (const fn of FUNCTIONS) {
    const artifact = join('.serverless', `${fn.key}.zip`);
    const zip = await readFile(join(REPO, artifact));
    const entries = zipEntries(zip);
    const bundle = entries.find((entry) => entry.name === fn.bundle);
    if (!bundle) throw new Error(`${artifact}: no ${fn.bundle} in it`);
    figures.push({
      function: fn.key,
      artifact,
      zippedBytes: zip.length,
      unpackedBytes: entries.reduce((sum, entry) => sum + entry.bytes, 0),
      bundleBytes: bundle.bytes,
      entries,
    });
  }
  return figures;
}
