/**
 * Progress on stderr while something slow runs: a spinner with a label on a terminal,
 * nothing otherwise (so pipes and logs stay clean).
 */

import type { Io } from "./io.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Work faster than this shows no spinner at all. */
const DELAY_MS = 150;

/** Runs `work`, showing `label` with a spinner on a terminal while it takes. */
export async function withProgress<T>(io: Io, label: string, work: () => Promise<T>): Promise<T> {
  if (!io.stderrIsTerminal) return await work();
  let frame = 0;
  let shown = false;
  const draw = () => {
    shown = true;
    io.err(`\r\u001b[2K${io.errStyle.cyan(FRAMES[frame++ % FRAMES.length])} ${label}…`);
  };
  let timer = setTimeout(function tick() {
    draw();
    timer = setTimeout(tick, 80);
  }, DELAY_MS);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    if (shown) io.err("\r\u001b[2K");
  }
}
