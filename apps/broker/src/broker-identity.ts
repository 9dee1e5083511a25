/**
 * The broker's stable id: given by flag, or generated once and kept in the
 * data directory, so a restarted broker is recognised as the same one (and
 * keeps leading its partitions).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The id from `configured`, else from `<dataDir>/broker.id`, else a new one (saved). */
export async function brokerIdentity(dataDir: string, configured: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'broker.id');
  if (configured) {
    await writeFile(file, `${configured}\n`);
    return configured;
  }
  try {
    const saved = (await readFile(file, 'utf8')).trim();
    if (saved) return saved;
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
  }
  const id = `broker-${randomBytes(4).toString('hex')}`;
  await writeFile(file, `${id}\n`);
  return id;
}
