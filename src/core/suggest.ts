/** "Did you mean …?" suggestions for unknown keys, executor names, metrics, scenario names and toxic types. */

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) => {
    const row = new Array<number>(m + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= m; j++) d[0][j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

/** Case, `_` and `-` insensitive form: `start_time`, `StartTime` and `start-time` all match `startTime`. */
const fold = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, '');

/** The closest candidate to `input`, if it is close enough to be a plausible typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const folded = fold(input);
  const exactFold = list.find((c) => fold(c) === folded);
  if (exactFold !== undefined) return exactFold;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of list) {
    const d = editDistance(folded, fold(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(Math.max(folded.length, 3) / 3)));
  return bestD <= limit ? best : undefined;
}

/** `did you mean \`x\`?`, or a list of what is allowed when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>, noun = 'allowed'): string {
  const list = [...candidates];
  const c = closest(input, list);
  if (c !== undefined) return `did you mean \`${c}\`?`;
  return `${noun}: ${list.map((x) => `\`${x}\``).join(', ')}`;
}
