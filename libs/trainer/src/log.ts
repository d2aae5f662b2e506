/** A log sink: one line per call, without a trailing newline. */
export type Log = (line: string) => void;

/** PaddleDetection-style lines on stderr: `2026-12-02 10:00:00 - INFO - message`. */
export const stderrLog: Log = (line) => process.stderr.write(`${new Date().toISOString().replace('T', ' ').slice(0, 19)} - INFO - ${line}\n`);
