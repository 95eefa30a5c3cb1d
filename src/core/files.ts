/**
 * Whole-file writes that never leave a torn or empty file behind.
 *
 * A run's JSON files (config, checkpoint, summary) are read back by `resume` and `monitor`: a
 * crash or a full disk in the middle of a plain `writeFileSync` leaves a cut or 0-byte file that
 * breaks both, so every such file is written next to its final name and renamed over it.
 */
import * as fs from "node:fs";

/**
 * Write `text` to `file` atomically: to `file.tmp`, fsync, then rename. On failure the temp file
 * is removed (a full disk is not filled further) and the error names the file; the previous
 * content of `file`, if any, is untouched. `advice` ends the message (what the user can do).
 */
export function writeFileAtomic(file: string, text: string, advice = "free disk space or fix the folder's permissions, then try again"): void {
  const tmp = `${file}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing: the write error is the one to report */
      }
    }
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`cannot write \`${file}\` (${code}); ${advice}`, { cause: err });
  }
}
