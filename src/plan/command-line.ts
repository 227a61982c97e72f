/** Command lines of plan actions and commands (profile rollout, timeline actions, monitor.replicas). */
/** Splits a command line into arguments like a shell would, without any expansion: quotes and backslashes only. */
export function splitCommand(line: string): { ok: true; argv: string[] } | { ok: false; message: string } {
  const argv: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) argv.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) return { ok: false, message: `unbalanced ${quote === '"' ? 'double' : 'single'} quote in the command` };
  if (inArg) argv.push(cur);
  if (argv.length === 0) return { ok: false, message: 'the command is empty' };
  return { ok: true, argv };
}
